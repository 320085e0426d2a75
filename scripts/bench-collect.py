#!/usr/bin/env python3
"""Turn one benchmark boot's results/bench/*.json into abstat records.

  bench-collect.py --kernel K --smp N --round R --results DIR --out FILE
                   [--insns FILE]

Each workload's JSON object (harness --json output) yields one JSON line
per numeric top-level field: {"kernel", "smp", "workload", "metric",
"round", "value"} (the format harness/abstat reads).  A workload whose
exit status was non-zero yields a line {"kernel", ..., "error": text} on
stderr and none on the output, and makes the exit status 1.

--insns FILE: the boot's output of the instruction-counting QEMU plugin
(tools/qemu-insn/insn.c; bench.sh's INSNS=1).  The guest ran its marker
right before and right after each workload and wrote the two mark numbers
to bench/NAME.insn, and the number of marks it ran to bench/insn-marks.
Each workload then also yields insns_total (the instructions of all vCPUs
between its marks) and, where its JSON has a total count of operations
("ops" of faultbench's rate workloads, "records" of ebizzy),
insns_per_op; both lines carry "better": "lower".

On a kernel with speculative page faults the guest also writes
bench/NAME.vmstat: what each spf_* counter of /proc/vmstat moved by
during the workload.  Each such workload yields spf_attempts, spf_aborts
(attempts that did not finish speculatively, hand-overs included;
"better": "lower") and, when there was an attempt, spf_success_pct
("better": "higher").
"""

import argparse
import json
import os
import sys

SKIP_FIELDS = {"threads", "seconds", "writers", "hold_ms", "size", "chunks",
               "chunk_size", "rounds", "hold_ns", "ops"}

# The JSON fields that count a workload's operations, for insns_per_op.
# The workloads run for a fixed time (-S), so the count includes neither
# the start nor the end of the process, which the instructions between
# the marks do: both kernels pay them alike.  The workloads with two
# phases (writer, dontneed_hold), holdlat and lockbench have no single
# count: only insns_total.
OPS_FIELDS = ("ops", "records")


def read_marks(path):
    """The instruction totals of the plugin's "mark N insns TOTAL ..." lines,
    indexed by N; raises ValueError on a malformed file."""
    totals = []
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words or words[0] != "mark":
                continue
            if len(words) < 4 or words[2] != "insns" or int(words[1]) != len(totals):
                raise ValueError("%s: unexpected line: %s" % (path, line.strip()))
            totals.append(int(words[3]))
    return totals


def insn_metrics(bench, name, obj, totals):
    """[(metric, value)] of one workload from its NAME.insn ("START END")."""
    with open(os.path.join(bench, name + ".insn")) as f:
        start, end = (int(w) for w in f.read().split())
    if not 0 <= start < end < len(totals):
        raise ValueError("%s.insn: marks %d..%d, but the plugin saw %d" % (
            name, start, end, len(totals)))
    insns = totals[end] - totals[start]
    metrics = [("insns_total", insns)]
    for field in OPS_FIELDS:
        ops = obj.get(field)
        if isinstance(ops, (int, float)) and not isinstance(ops, bool) and ops > 0:
            metrics.append(("insns_per_op", insns / ops))
            break
    return metrics


def vmstat_metrics(path):
    """[(metric, value, better)] of one workload's NAME.vmstat ("NAME DELTA"
    lines); raises ValueError on a malformed file."""
    counts = {}
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            if len(words) != 2 or not words[0].startswith("spf_"):
                raise ValueError("%s: unexpected line: %s" % (path, line.strip()))
            counts[words[0]] = int(words[1])
    try:
        attempts, success = counts["spf_attempt"], counts["spf_success"]
    except KeyError as e:
        raise ValueError("%s: no %s" % (path, e.args[0]))
    if not 0 <= success <= attempts:
        raise ValueError("%s: %d successes of %d attempts" % (path, success, attempts))
    metrics = [("spf_attempts", attempts, None), ("spf_aborts", attempts - success, "lower")]
    if attempts > 0:
        metrics.append(("spf_success_pct", 100.0 * success / attempts, "higher"))
    return metrics


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kernel", required=True)
    p.add_argument("--smp", type=int, required=True)
    p.add_argument("--round", type=int, required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--insns", help="the insn plugin's output of this boot")
    a = p.parse_args()
    bench = os.path.join(a.results, "bench")
    if not os.path.isdir(bench):
        print("bench-collect: no %s" % bench, file=sys.stderr)
        return 1
    totals = None
    if a.insns:
        # Every mark must be one of the guest's: another one (something
        # else that runs the marker instruction) would shift the numbers.
        try:
            totals = read_marks(a.insns)
            ran = int(open(os.path.join(bench, "insn-marks")).read().strip())
        except (OSError, ValueError) as e:
            print("bench-collect: %s smp=%d: no instruction counts: %s "
                  "(is insn-mark in the initramfs? scripts/make-initramfs.sh)" % (
                      a.kernel, a.smp, e), file=sys.stderr)
            return 1
        if ran != len(totals):
            print("bench-collect: %s smp=%d: the guest ran %d marks, the plugin "
                  "saw %d (%s)" % (a.kernel, a.smp, ran, len(totals), a.insns),
                  file=sys.stderr)
            return 1
    bad = 0

    def row(name, key, value, **extra):
        return json.dumps(dict({
            "kernel": a.kernel, "smp": a.smp, "workload": name,
            "metric": key, "round": a.round, "value": value}, **extra)) + "\n"

    with open(a.out, "a") as out:
        for f in sorted(os.listdir(bench)):
            if not f.endswith(".json"):
                continue
            name = f[:-5]
            base = os.path.join(bench, name)
            try:
                rc = int(open(base + ".rc").read().strip())
            except (OSError, ValueError):
                rc = -1
            text = open(base + ".json").read().strip()
            if rc == 4:
                print("bench-collect: %s %s smp=%d: skipped: %s" % (
                    a.kernel, name, a.smp,
                    open(base + ".err").read().strip()[-200:]), file=sys.stderr)
                continue
            try:
                obj = json.loads(text) if rc == 0 else None
            except ValueError:
                obj = None
            if obj is None:
                err = open(base + ".err").read().strip()[-300:]
                print("bench-collect: %s %s smp=%d failed (status %d): %s" % (
                    a.kernel, name, a.smp, rc, err), file=sys.stderr)
                bad = 1
                continue
            for key, value in obj.items():
                if key in SKIP_FIELDS or isinstance(value, bool):
                    continue
                if isinstance(value, (int, float)):
                    out.write(row(name, key, value))
            if os.path.exists(base + ".vmstat"):
                try:
                    for key, value, better in vmstat_metrics(base + ".vmstat"):
                        extra = {"better": better} if better else {}
                        out.write(row(name, key, value, **extra))
                except ValueError as e:
                    print("bench-collect: %s %s smp=%d: %s" % (a.kernel, name, a.smp, e),
                          file=sys.stderr)
                    bad = 1
            if totals is not None:
                try:
                    metrics = insn_metrics(bench, name, obj, totals)
                except (OSError, ValueError) as e:
                    print("bench-collect: %s %s smp=%d: no instruction counts: %s" % (
                        a.kernel, name, a.smp, e), file=sys.stderr)
                    bad = 1
                    continue
                for key, value in metrics:
                    out.write(row(name, key, value, better="lower"))
    return bad


if __name__ == "__main__":
    sys.exit(main())

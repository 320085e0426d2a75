#!/usr/bin/env python3
"""Instructions per kernel function from the QEMU plugin's block profile.

    insn-profile.py [--top N] LABEL=PROFILE:SYSTEM_MAP:OPS ...

PROFILE is what tools/qemu-insn/insn.c writes with prof=PATH (boot-qemu.sh's
QEMU_PLUGIN_PROF): "<vaddr hex> <instructions>" per translation block, for
the instructions run between marks 0 and 1 (2 and 3, ...).  SYSTEM_MAP is
the kernel's System.map (a kernel without KASLR, as the perf flavor is),
OPS the number of operations the workload did between the marks, so that
the table is in instructions per operation.  Blocks below the kernel's
first text symbol are user space ("[user]").

With one profile: the N functions with the most instructions.  With two or
more: one column per profile, then the last minus the first, sorted by the
size of that difference, so that what a patch added or removed comes first.

    insn-profile.py --ops-from BENCH_JSONL --kernel K --smp N

prints the OPS of kernel K's round 1 at N vCPUs in scripts/bench.sh's
bench.jsonl (INSNS=1): insns_total / insns_per_op, the count of operations
between the marks.  Exit status 1 if there is none.
"""
import argparse
import bisect
import json
import sys

KERNEL_START = 0xFFFF800000000000


class Error(Exception):
    pass


def read_map(path):
    """Sorted (address, name) of the text symbols of a System.map."""
    syms = []
    try:
        with open(path) as f:
            for lineno, line in enumerate(f, 1):
                parts = line.split()
                if len(parts) < 3:
                    raise Error(f"{path}:{lineno}: not 'address type name'")
                if parts[1] not in "tTwW":
                    continue
                syms.append((int(parts[0], 16), parts[2]))
    except OSError as e:
        raise Error(f"{path}: {e.strerror}") from e
    if not syms:
        raise Error(f"{path}: no text symbols")
    syms.sort()
    return syms


def read_profile(path, syms):
    """Instructions per function name."""
    addrs = [a for a, _ in syms]
    per_fn = {}
    try:
        with open(path) as f:
            for lineno, line in enumerate(f, 1):
                parts = line.split()
                try:
                    vaddr, insns = int(parts[0], 16), int(parts[1])
                except (IndexError, ValueError):
                    raise Error(f"{path}:{lineno}: not '<hex vaddr> <count>'") from None
                if vaddr < KERNEL_START:
                    name = "[user]"
                else:
                    i = bisect.bisect_right(addrs, vaddr) - 1
                    name = syms[i][1] if i >= 0 else "[kernel, no symbol]"
                per_fn[name] = per_fn.get(name, 0) + insns
    except OSError as e:
        raise Error(f"{path}: {e.strerror}") from e
    if not per_fn:
        raise Error(f"{path}: empty: did the guest run the marks?")
    return per_fn


def parse_spec(spec):
    label, sep, rest = spec.partition("=")
    parts = rest.split(":")
    if not sep or not label or len(parts) != 3:
        raise Error(f"'{spec}': want LABEL=PROFILE:SYSTEM_MAP:OPS")
    try:
        ops = float(parts[2])
    except ValueError:
        raise Error(f"'{spec}': OPS '{parts[2]}' is not a number") from None
    if ops <= 0:
        raise Error(f"'{spec}': OPS must be positive")
    return label, parts[0], parts[1], ops


def ops_from(path, kernel, smp):
    """insns_total / insns_per_op of one kernel's round 1 at smp vCPUs."""
    rows = {}
    try:
        with open(path) as f:
            for lineno, line in enumerate(f, 1):
                try:
                    r = json.loads(line)
                    if (r["kernel"], r["smp"], r["round"]) == (kernel, smp, 1):
                        rows[(r["workload"], r["metric"])] = r["value"]
                except (ValueError, KeyError, TypeError):
                    raise Error(f"{path}:{lineno}: not a bench.jsonl record") from None
    except OSError as e:
        raise Error(f"{path}: {e.strerror}") from e
    ops = {w: rows[(w, "insns_total")] / v for (w, m), v in rows.items()
           if m == "insns_per_op" and v > 0 and (w, "insns_total") in rows}
    if len(ops) != 1:
        raise Error(f"{path}: want insns_total and insns_per_op of one workload "
                    f"for {kernel}, smp {smp}, round 1; found {len(ops)}")
    return round(next(iter(ops.values())))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--ops-from", metavar="BENCH_JSONL")
    ap.add_argument("--kernel")
    ap.add_argument("--smp", type=int)
    ap.add_argument("profiles", nargs="*", metavar="LABEL=PROFILE:SYSTEM_MAP:OPS")
    args = ap.parse_args(argv)
    if args.ops_from:
        if args.kernel is None or args.smp is None or args.profiles:
            ap.error("--ops-from wants --kernel and --smp and no profiles")
        try:
            print(ops_from(args.ops_from, args.kernel, args.smp))
        except Error as e:
            print(f"insn-profile: {e}", file=sys.stderr)
            return 1
        return 0
    if not args.profiles:
        ap.error("no profiles")
    try:
        cols = []
        for spec in args.profiles:
            label, prof, smap, ops = parse_spec(spec)
            per_fn = read_profile(prof, read_map(smap))
            cols.append((label, {k: v / ops for k, v in per_fn.items()}))
    except Error as e:
        print(f"insn-profile: {e}", file=sys.stderr)
        return 1

    names = set()
    for _, col in cols:
        names.update(col)
    totals = [sum(col.values()) for _, col in cols]
    if len(cols) == 1:
        key = lambda n: -cols[0][1].get(n, 0)
    else:
        key = lambda n: -abs(cols[-1][1].get(n, 0) - cols[0][1].get(n, 0))
    head = ["function"] + [label for label, _ in cols]
    if len(cols) > 1:
        head.append(f"{cols[-1][0]} - {cols[0][0]}")
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    row = ["**total (insns/op)**"] + [f"{t:.1f}" for t in totals]
    if len(cols) > 1:
        d = totals[-1] - totals[0]
        row.append(f"{d:+.1f} ({d / totals[0] * 100:+.2f}%)")
    print("| " + " | ".join(row) + " |")
    for n in sorted(names, key=key)[: args.top]:
        vals = [col.get(n, 0) for _, col in cols]
        row = [n] + [f"{v:.1f}" for v in vals]
        if len(cols) > 1:
            row.append(f"{vals[-1] - vals[0]:+.1f}")
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

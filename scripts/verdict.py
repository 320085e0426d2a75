#!/usr/bin/env python3
"""Turn what a guest run left behind into one list of test results.

Inputs of one guest run (scripts/boot-qemu.sh writes them):
  console.log        the whole serial console: kernel log, KUnit KTAP
  results/           the guest's /results, unpacked from the results disk:
    <suite>/<test>.tap   TAP written by a test program
    <suite>/<test>.rc    its exit status
    <suite>/<test>.log   free-form output of a test judged by exit status
    status               exit status of the guest job

Every test yields one record {suite, name, status, detail} with status
"pass", "fail" or "skip"; records are appended to a JSON-lines file, and
'summary' prints them and the closing "N passed, N failed" line.

The kernel log is scanned for splats (BUG, WARNING, Oops, lockdep, KASAN,
RCU stalls, hung tasks, ...); each is a failed test with the excerpt as
detail.  A splat between the markers MMSCALE-EXPECT-SPLAT-BEGIN and
MMSCALE-EXPECT-SPLAT-END is a deliberate one, the runner's self-test:
there, at least one splat must be found in each such window, and that is
a pass.
"""

import argparse
import json
import os
import re
import sys

# One regular expression per kind of kernel report.  Matched against
# console lines with the printk timestamp stripped.
SPLAT_PATTERNS = [
    ("bug", re.compile(r"^BUG: ")),
    ("kernel-bug", re.compile(r"kernel BUG at ")),
    ("warning", re.compile(r"^WARNING: ")),
    ("oops", re.compile(r"^Oops: |^Oops\b|general protection fault")),
    ("panic", re.compile(r"^Kernel panic - ")),
    ("lockdep", re.compile(r"possible (circular|recursive) locking dependency"
                           r"|inconsistent lock state|suspicious RCU usage"
                           r"|DEBUG_LOCKS_WARN_ON|possible irq lock inversion"
                           r"|bad unlock balance detected"
                           r"|held lock freed|lock held when returning")),
    ("kasan", re.compile(r"KASAN: ")),
    ("ubsan", re.compile(r"UBSAN: ")),
    ("rcu-stall", re.compile(r"rcu: INFO: .* detected stalls"
                             r"|rcu_(sched|preempt) self-detected stall"
                             r"|rcu: .*detected (expedited )?stall")),
    ("hung-task", re.compile(r"INFO: task .* blocked for more than")),
    ("soft-lockup", re.compile(r"watchdog: BUG: soft lockup|hard LOCKUP")),
    ("list-corruption", re.compile(r"list_(add|del) corruption")),
    ("bad-page", re.compile(r"BUG: Bad page (state|map)")),
]

TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
EXPECT_BEGIN = "MMSCALE-EXPECT-SPLAT-BEGIN"
EXPECT_END = "MMSCALE-EXPECT-SPLAT-END"
SPLAT_GAP = 40  # lines: matches closer than this belong to one report
EXCERPT = 25  # lines of a report shown as its detail

TAP_RESULT = re.compile(r"^(?P<indent>\s*)(?P<ok>ok|not ok)\s+(?P<num>\d+)"
                        r"(?:\s*-)?\s*(?P<name>[^#]*?)\s*"
                        r"(?:#\s*(?P<directive>\S+)\s*(?P<reason>.*))?$")
TAP_SUBTEST = re.compile(r"^(?P<indent>\s*)# Subtest: (?P<name>.+?)\s*$")
# kselftest_harness.h names the case on its RUN line; its SKIP result line
# ("ok 2 # SKIP reason") carries no name.
HARNESS_RUN = re.compile(r"^#\s+RUN\s+(?P<name>\S+)\s+\.\.\.")


def strip_ts(line):
    return TIMESTAMP.sub("", line.rstrip("\r\n"))


def record(suite, name, status, detail=""):
    return {"suite": suite, "name": name, "status": status, "detail": detail}


def parse_tap(lines, suite):
    """Results of a TAP or KTAP stream (nested subtests: leaf cases only).

    A subtest's closing line is reported only when it failed and none of
    its own cases did (a crash in the middle of a suite, say).
    """
    out = []
    stack = []  # (indent, name, index of the first child record)
    running = None  # the case named by the last kselftest_harness RUN line
    for raw in lines:
        line = strip_ts(raw)
        m = HARNESS_RUN.match(line)
        if m:
            running = m.group("name")
            continue
        m = TAP_SUBTEST.match(line)
        if m:
            stack.append((len(m.group("indent")), m.group("name"), len(out)))
            continue
        m = TAP_RESULT.match(line)
        if not m:
            continue
        indent = len(m.group("indent"))
        name = m.group("name").strip() or running or "test %s" % m.group("num")
        running = None
        directive = (m.group("directive") or "").upper()
        if directive == "SKIP":
            status = "skip"
        elif m.group("ok") == "ok" or directive == "TODO":
            status = "pass"
        else:
            status = "fail"
        closed = None
        while stack and stack[-1][0] > indent:
            closed = stack.pop()
        prefix = ".".join(s[1] for s in stack if s[0] <= indent)
        if closed is not None:
            children = out[closed[2]:]
            if status == "fail" and not any(c["status"] == "fail"
                                            for c in children):
                out.append(record(suite, ".".join(
                    p for p in (prefix, name) if p), "fail",
                    "suite failed without a failed case"))
            continue
        full = ".".join(p for p in (prefix, name) if p)
        out.append(record(suite, full, status,
                          (m.group("reason") or "").strip()))
    return out


def find_splats(lines):
    """(first line number, kind, excerpt) of each kernel report in lines."""
    splats = []
    last = -SPLAT_GAP - 1
    for i, raw in enumerate(lines):
        line = strip_ts(raw)
        for kind, pattern in SPLAT_PATTERNS:
            if pattern.search(line):
                if i - last > SPLAT_GAP:
                    excerpt = "\n".join(strip_ts(x) for x in
                                        lines[i:i + EXCERPT])
                    splats.append((i + 1, kind, excerpt))
                last = i
                break
    return splats


def scan_console(lines, suite="kernel-log"):
    """Splat records for a console log, honouring the expected window."""
    out = []
    inside, windows = False, []
    outside = []
    for i, raw in enumerate(lines):
        if EXPECT_BEGIN in raw:
            inside = True
            windows.append([])
            continue
        if EXPECT_END in raw:
            inside = False
            continue
        (windows[-1] if inside else outside).append((i, raw))

    def splats_of(numbered):
        found = find_splats([raw for _, raw in numbered])
        return [(numbered[n - 1][0] + 1, kind, ex) for n, kind, ex in found]

    for lineno, kind, excerpt in splats_of(outside):
        out.append(record(suite, "splat-%s-line-%d" % (kind, lineno),
                          "fail", excerpt))
    # Each window must hold its own report: one window's report must not
    # stand in for another's that never came.
    for n, window in enumerate(windows, 1):
        name = "scanner-detects-deliberate-warn"
        if n > 1:
            name = "scanner-detects-expected-splat-%d" % n
        found = splats_of(window)
        if found:
            out.append(record(suite, name, "pass",
                              "%d report(s) found" % len(found)))
        else:
            out.append(record(suite, name, "fail",
                              "the deliberate report was not seen"))
    return out


def read_lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.readlines()


def read_rc(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def tail(path, n=30):
    try:
        return "".join(read_lines(path)[-n:])
    except OSError:
        return ""


def collect_suite(suite_dir, suite):
    """Records for one results/<suite>/ folder."""
    out = []
    names = sorted({os.path.splitext(f)[0] for f in os.listdir(suite_dir)
                    if f.endswith((".tap", ".rc", ".log"))})
    for name in names:
        base = os.path.join(suite_dir, name)
        rc = read_rc(base + ".rc")
        if os.path.exists(base + ".tap"):
            results = parse_tap(read_lines(base + ".tap"), suite)
            for r in results:
                r["name"] = "%s.%s" % (name, r["name"])
            out.extend(results)
            if rc is None:
                out.append(record(suite, name, "fail",
                                  "no exit status: did not finish"))
            elif rc == 124 or rc == 137:
                out.append(record(suite, name, "fail", "timed out\n" +
                                  tail(base + ".tap")))
            elif rc not in (0, 4) and not any(
                    r["status"] == "fail" for r in results):
                out.append(record(suite, name, "fail",
                                  "exit status %d\n%s" %
                                  (rc, tail(base + ".tap"))))
            elif not results:
                out.append(record(suite, name,
                                  "skip" if rc == 4 else "pass",
                                  "exit status %d, no TAP lines" % rc))
        else:
            if rc == 0:
                out.append(record(suite, name, "pass"))
            elif rc == 4:
                out.append(record(suite, name, "skip",
                                  tail(base + ".log", 3).strip()))
            else:
                why = ("no exit status: did not finish" if rc is None else
                       "timed out" if rc in (124, 137) else
                       "exit status %d" % rc)
                out.append(record(suite, name, "fail",
                                  why + "\n" + tail(base + ".log")))
    return out


def load_baseline(path):
    """{test name: status} from a baseline file ("NAME STATUS  # note")."""
    base = {}
    for raw in read_lines(path):
        line = raw.split("#", 1)[0].split()
        if not line:
            continue
        if len(line) != 2 or line[1] not in ("pass", "fail", "skip"):
            raise SystemExit("%s: bad baseline line: %s" % (path, raw.strip()))
        base[line[0]] = line[1]
    return base


def apply_baseline(records, suite, base, label):
    """A test that fails here and failed on the baseline kernel too is not
    a regression: it becomes a skip that says so.  Everything else stands
    (a baseline pass that fails now is a failure)."""
    for r in records:
        if r["suite"] != suite or r["status"] != "fail":
            continue
        if base.get(r["name"]) == "fail":
            first = (r["detail"] or "").strip().splitlines()
            r["status"] = "skip"
            r["detail"] = "fails on %s too (baseline): %s" % (
                label, first[0] if first else "")
    return records


def cmd_guest(args):
    out = []
    try:
        console = read_lines(args.console)
    except OSError:
        console = []
    text = "".join(console)
    if "MMSCALE-GUEST-UP" not in text:
        out.append(record("guest", "boot", "fail",
                          "the guest did not come up\n" +
                          "".join(console[-30:])))
    else:
        out.append(record("guest", "boot", "pass"))
        if "MMSCALE-GUEST-DONE" not in text:
            why = ("timed out (%s)" % args.timeout_note
                   if args.timeout_note else "the guest did not finish")
            out.append(record("guest", "finish", "fail",
                              why + "\n" + "".join(console[-30:])))
    kunit = parse_tap(console, "kunit")
    if args.expect_kunit and not kunit and "MMSCALE-GUEST-UP" in text:
        kunit.append(record("kunit", "ran", "fail",
                            "no KTAP results on the console: KUnit did not run"))
    out.extend(kunit)
    out.extend(scan_console(console))
    rdir = args.results
    if rdir and os.path.isdir(rdir):
        for suite in sorted(os.listdir(rdir)):
            path = os.path.join(rdir, suite)
            if os.path.isdir(path):
                out.extend(collect_suite(path, suite))
    if args.baseline:
        apply_baseline(out, args.baseline_suite, load_baseline(args.baseline),
                       args.baseline_label)
    prefix = args.prefix + ":" if args.prefix else ""
    for r in out:
        r["suite"] = prefix + r["suite"]
    append(args.out, out)
    return 0


CTEST_LINE = re.compile(r"^\s*\d+/\d+\s+Test\s+#\d+:\s+(?P<name>\S+)\s+\.*\s*"
                        r"(?P<res>Passed|\*\*\*Failed|\*\*\*Skipped|"
                        r"\*\*\*Not Run|\*\*\*Timeout|\*\*\*Exception)?"
                        r"(?P<rest>.*)$")


def cmd_ctest(args):
    out = []
    for raw in read_lines(args.log):
        m = CTEST_LINE.match(raw)
        if not m:
            continue
        res = m.group("res") or m.group("rest")
        if "Passed" in res:
            status = "pass"
        elif "Skipped" in res:
            status = "skip"
        else:
            status = "fail"
        out.append(record(args.suite, m.group("name"), status,
                          "" if status == "pass" else raw.strip()))
    if not out:
        out.append(record(args.suite, "ctest", "fail",
                          "no ctest results in %s" % args.log))
    append(args.out, out)
    return 0


PYUNIT_LINE = re.compile(r"^(?P<name>test\w+) \((?P<cls>[\w.]+)\)"
                         r"(?:\n.*)? \.\.\. (?P<res>ok|FAIL|ERROR|skipped.*)$")


def cmd_pyunit(args):
    """Results of 'python3 -m unittest -v' (its stderr)."""
    out = []
    for raw in read_lines(args.log):
        m = PYUNIT_LINE.match(raw.rstrip("\n"))
        if not m:
            continue
        res = m.group("res")
        status = ("pass" if res == "ok" else
                  "skip" if res.startswith("skipped") else "fail")
        parts = m.group("cls").split(".")
        if parts[-1] == m.group("name"):  # Python 3.11: module.Class.test
            parts.pop()
        out.append(record(args.suite, "%s.%s" % (parts[-1], m.group("name")),
                          status,
                          "" if status == "pass" else res))
    if not out or (args.rc and not any(r["status"] == "fail" for r in out)):
        out.append(record(args.suite, "unittest", "fail",
                          "exit status %s\n%s" % (args.rc, tail(args.log))))
    append(args.out, out)
    return 0


def cmd_tap(args):
    out = parse_tap(read_lines(args.tap), args.suite)
    rc = args.rc
    if rc is not None and rc not in (0, 4) and not any(
            r["status"] == "fail" for r in out):
        out.append(record(args.suite, "exit-status", "fail",
                          "exit status %d" % rc))
    if not out:
        out.append(record(args.suite, "tap", "fail",
                          "no TAP results in %s" % args.tap))
    append(args.out, out)
    return 0


def cmd_result(args):
    append(args.out, [record(args.suite, args.name, args.status,
                             args.detail or "")])
    return 0


def append(path, records):
    with open(path, "a", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


def load(paths):
    records = []
    for path in paths:
        for n, line in enumerate(read_lines(path), 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError as e:
                raise SystemExit("%s:%d: not a JSON record: %s" %
                                 (path, n, e))
    return records


def cmd_summary(args):
    records = load(args.files)
    counts = {"pass": 0, "fail": 0, "skip": 0}
    for r in records:
        status = r["status"]
        counts[status] += 1
        tag = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}[status]
        first = (r.get("detail") or "").strip().splitlines()
        note = "  (%s)" % first[0] if first and status != "pass" else ""
        print("%s %s: %s%s" % (tag, r["suite"], r["name"], note))
    failed = [r for r in records if r["status"] == "fail"]
    for r in failed:
        if (r.get("detail") or "").count("\n"):
            print("\n---- %s: %s ----\n%s" % (r["suite"], r["name"],
                                              r["detail"].rstrip()))
    skipped = [r for r in records if r["status"] == "skip"]
    if skipped:
        print("\nskipped: " + ", ".join("%s:%s" % (r["suite"], r["name"])
                                        for r in skipped))
    if not records:
        print("no test results at all")
        counts["fail"] += 1
    print("%d passed, %d failed, %d skipped" %
          (counts["pass"], counts["fail"], counts["skip"]))
    return 1 if counts["fail"] else 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    g = sub.add_parser("guest", help="results of one guest run")
    g.add_argument("--console", required=True)
    g.add_argument("--results")
    g.add_argument("--prefix", default="")
    g.add_argument("--timeout-note", default="")
    g.add_argument("--expect-kunit", action="store_true",
                   help="no KTAP on the console is a failure")
    g.add_argument("--baseline", help="baseline results of one suite")
    g.add_argument("--baseline-suite", default="vm")
    g.add_argument("--baseline-label", default="vanilla 6.1")
    g.add_argument("--out", required=True)
    g.set_defaults(func=cmd_guest)

    c = sub.add_parser("ctest", help="results of a ctest log")
    c.add_argument("--suite", required=True)
    c.add_argument("--log", required=True)
    c.add_argument("--out", required=True)
    c.set_defaults(func=cmd_ctest)

    u = sub.add_parser("pyunit", help="results of python3 -m unittest -v")
    u.add_argument("--suite", required=True)
    u.add_argument("--log", required=True)
    u.add_argument("--rc", type=int, default=0)
    u.add_argument("--out", required=True)
    u.set_defaults(func=cmd_pyunit)

    t = sub.add_parser("tap", help="results of a TAP file")
    t.add_argument("--suite", required=True)
    t.add_argument("--tap", required=True)
    t.add_argument("--rc", type=int)
    t.add_argument("--out", required=True)
    t.set_defaults(func=cmd_tap)

    r = sub.add_parser("result", help="one result")
    r.add_argument("--suite", required=True)
    r.add_argument("--name", required=True)
    r.add_argument("--status", required=True,
                   choices=("pass", "fail", "skip"))
    r.add_argument("--detail")
    r.add_argument("--out", required=True)
    r.set_defaults(func=cmd_result)

    s = sub.add_parser("summary", help="print results, N passed, N failed")
    s.add_argument("files", nargs="+")
    s.set_defaults(func=cmd_summary)

    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

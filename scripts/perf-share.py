#!/usr/bin/env python3
"""Share of sampled time in mmap_lock / rwsem paths, per kernel.

  perf-share.py [--workload NAME] results/bench-*/perf-symbols-KERNEL.txt ...

Reads 'perf report --stdio --no-children --sort sym -g none' output and
prints a markdown section: for each kernel, the top kernel symbols and the
summed self time of symbols that belong to the mmap_lock / rwsem / range
lock paths.
"""

import os
import re
import sys

LOCK_SYMBOLS = re.compile(r"rwsem|down_(read|write)|up_(read|write)|"
                          r"mmap_lock|osq_lock|range_(read|write)_lock|"
                          r"range_lock|lock_mm_and_find_vma|"
                          r"__mmap_lock_do_trace")
LINE = re.compile(r"^\s*(?P<pct>\d+\.\d+)%\s+\[(?P<where>[k.])\]\s+(?P<sym>\S+)")


def parse(path):
    rows = []
    with open(path, errors="replace") as f:
        for raw in f:
            m = LINE.match(raw)
            if m:
                rows.append((float(m.group("pct")), m.group("where"),
                             m.group("sym")))
    return rows


def main(args):
    workload = "ebizzy-mTt-N"
    if args[:1] == ["--workload"]:
        if len(args) < 2:
            print("perf-share.py: --workload needs a name", file=sys.stderr)
            return 2
        workload, args = args[1], args[2:]
    paths = args
    print("\n## perf record -g of %s (largest vCPU count, round 1)\n" % workload)
    if not paths:
        print("No perf profile was recorded.")
        return 0
    print("| kernel | time in mmap_lock/rwsem paths | top kernel symbols |")
    print("| --- | --- | --- |")
    for path in paths:
        kernel = re.sub(r"^perf-symbols-|\.txt$", "", os.path.basename(path))
        rows = parse(path)
        lock = sum(p for p, _, s in rows if LOCK_SYMBOLS.search(s))
        kernel_rows = [r for r in rows if r[1] == "k"][:5]
        top = ", ".join("%s %.1f%%" % (s, p) for p, _, s in kernel_rows)
        print("| %s | %.1f%% | %s |" % (kernel, lock, top or "(none)"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

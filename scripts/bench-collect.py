#!/usr/bin/env python3
"""Turn one benchmark boot's results/bench/*.json into abstat records.

  bench-collect.py --kernel K --smp N --round R --results DIR --out FILE

Each workload's JSON object (harness --json output) yields one JSON line
per numeric top-level field: {"kernel", "smp", "workload", "metric",
"round", "value"} (the format harness/abstat reads).  A workload whose
exit status was non-zero yields a line {"kernel", ..., "error": text} on
stderr and none on the output, and makes the exit status 1.
"""

import argparse
import json
import os
import sys

SKIP_FIELDS = {"threads", "seconds", "writers", "hold_ms", "size", "chunks",
               "chunk_size", "rounds", "hold_ns"}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kernel", required=True)
    p.add_argument("--smp", type=int, required=True)
    p.add_argument("--round", type=int, required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    bench = os.path.join(a.results, "bench")
    if not os.path.isdir(bench):
        print("bench-collect: no %s" % bench, file=sys.stderr)
        return 1
    bad = 0
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
                    out.write(json.dumps({
                        "kernel": a.kernel, "smp": a.smp, "workload": name,
                        "metric": key, "round": a.round, "value": value}) + "\n")
    return bad


if __name__ == "__main__":
    sys.exit(main())

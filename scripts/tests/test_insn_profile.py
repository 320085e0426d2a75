#!/usr/bin/env python3
"""Tests of scripts/insn-profile.py: blocks to kernel functions, per
operation, and the difference between two kernels."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PROFILE = os.path.join(os.path.dirname(HERE), "insn-profile.py")

# Two kernels: "old" has fault_a and fault_b, "new" moved fault_b and
# added fault_c.  Data symbols (type d/D) must not swallow blocks.
OLD_MAP = """\
ffffffff81000000 T _stext
ffffffff81000100 T fault_a
ffffffff81000200 t fault_b
ffffffff81000280 D some_data
ffffffff81000300 T fault_end
"""
NEW_MAP = """\
ffffffff81000000 T _stext
ffffffff81000100 T fault_a
ffffffff81000400 t fault_b
ffffffff81000500 W fault_c
ffffffff81000600 T fault_end
"""
# Blocks: two records of one address add up; the user block is lumped.
OLD_PROF = """\
ffffffff81000100 1000
ffffffff81000110 1000
ffffffff81000200 400
ffffffff81000290 600
401000 5000
"""
NEW_PROF = """\
ffffffff81000100 2000
ffffffff81000410 400
ffffffff81000510 600
ffffffff81000510 400
401000 5000
"""


class InsnProfile(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        for name, text in (("old.map", OLD_MAP), ("new.map", NEW_MAP),
                           ("old.prof", OLD_PROF), ("new.prof", NEW_PROF)):
            with open(self.path(name), "w") as f:
                f.write(text)

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def spec(self, label, ops):
        return f"{label}={self.path(label + '.prof')}:{self.path(label + '.map')}:{ops}"

    def run_profile(self, *args):
        return subprocess.run([sys.executable, PROFILE, *args], capture_output=True,
                              text=True, check=False)

    def rows(self, stdout):
        """{function: [cells]} of the table."""
        out = {}
        for line in stdout.splitlines()[2:]:
            cells = [c.strip() for c in line.strip("|").split("|")]
            out[cells[0]] = cells[1:]
        return out

    def test_one_profile_per_op(self):
        r = self.run_profile(self.spec("old", 10))
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.rows(r.stdout)
        self.assertEqual(rows["**total (insns/op)**"], ["800.0"])
        self.assertEqual(rows["fault_a"], ["200.0"])
        # The block after the data symbol is still fault_b's.
        self.assertEqual(rows["fault_b"], ["100.0"])
        self.assertEqual(rows["[user]"], ["500.0"])
        self.assertNotIn("some_data", rows)
        # Sorted by count, largest first.
        names = list(rows)[1:]
        self.assertEqual(names, ["[user]", "fault_a", "fault_b"])

    def test_difference_sorted_by_size(self):
        r = self.run_profile(self.spec("old", 10), self.spec("new", 20))
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.rows(r.stdout)
        self.assertEqual(rows["**total (insns/op)**"], ["800.0", "420.0", "-380.0 (-47.50%)"])
        self.assertEqual(rows["fault_c"], ["0.0", "50.0", "+50.0"])
        self.assertEqual(rows["fault_b"], ["100.0", "20.0", "-80.0"])
        self.assertEqual(rows["fault_a"], ["200.0", "100.0", "-100.0"])
        self.assertEqual(list(rows)[1:], ["[user]", "fault_a", "fault_b", "fault_c"])

    def test_top_limits_rows(self):
        r = self.run_profile("--top", "1", self.spec("old", 10))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(list(self.rows(r.stdout)), ["**total (insns/op)**", "[user]"])

    def test_errors(self):
        bad = self.path("bad.prof")
        with open(bad, "w") as f:
            f.write("ffffffff81000100 1000\nnot-hex 12\n")
        empty = self.path("empty.prof")
        open(empty, "w").close()
        cases = [
            (f"old={self.path('old.prof')}:{self.path('old.map')}", "want LABEL=PROFILE"),
            (f"old={self.path('old.prof')}:{self.path('old.map')}:many", "not a number"),
            (f"old={self.path('old.prof')}:{self.path('old.map')}:0", "must be positive"),
            (f"old={bad}:{self.path('old.map')}:1", "bad.prof:2"),
            (f"old={empty}:{self.path('old.map')}:1", "empty"),
            (f"old={self.path('old.prof')}:{self.path('none.map')}:1", "none.map"),
            (f"old={self.path('old.prof')}:{self.path('old.prof')}:1", "old.prof:1"),
        ]
        for spec, message in cases:
            with self.subTest(spec=spec):
                r = self.run_profile(spec)
                self.assertEqual(r.returncode, 1)
                self.assertIn(message, r.stderr)
                self.assertEqual(r.stdout, "")

    def write_jsonl(self, rows):
        path = self.path("bench.jsonl")
        with open(path, "w") as f:
            for kernel, smp, rnd, workload, metric, value in rows:
                f.write(json.dumps({"kernel": kernel, "smp": smp, "workload": workload,
                                    "metric": metric, "round": rnd, "value": value}) + "\n")
        return path

    def test_ops_from_bench_jsonl(self):
        path = self.write_jsonl([
            ("old", 2, 1, "pft", "insns_total", 5000000),
            ("old", 2, 1, "pft", "insns_per_op", 2500.0),
            ("old", 2, 1, "pft", "faults_per_s", 99.0),
            ("old", 2, 2, "pft", "insns_total", 7000000),   # round 2: not this one
            ("old", 2, 2, "pft", "insns_per_op", 7.0),
            ("new", 2, 1, "pft", "insns_total", 3000000),
            ("new", 2, 1, "pft", "insns_per_op", 1000.0),
        ])
        for kernel, ops in (("old", "2000"), ("new", "3000")):
            r = self.run_profile("--ops-from", path, "--kernel", kernel, "--smp", "2")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.strip(), ops)

    def test_ops_from_errors(self):
        two = self.write_jsonl([
            ("old", 2, 1, "pft", "insns_total", 10), ("old", 2, 1, "pft", "insns_per_op", 1.0),
            ("old", 2, 1, "mmap_loop", "insns_total", 10),
            ("old", 2, 1, "mmap_loop", "insns_per_op", 2.0),
        ])
        for args, message in (
            (["--kernel", "old", "--smp", "2"], "found 2"),
            (["--kernel", "old", "--smp", "4"], "found 0"),
            (["--kernel", "none", "--smp", "2"], "found 0"),
        ):
            with self.subTest(args=args):
                r = self.run_profile("--ops-from", two, *args)
                self.assertEqual(r.returncode, 1)
                self.assertIn(message, r.stderr)
        bad = self.path("bad.jsonl")
        with open(bad, "w") as f:
            f.write('{"kernel": "old"}\n')
        r = self.run_profile("--ops-from", bad, "--kernel", "old", "--smp", "2")
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.jsonl:1", r.stderr)
        r = self.run_profile("--ops-from", bad, "--kernel", "old")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--ops-from wants", r.stderr)


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""Tests of scripts/bench-collect.py: metrics, and the instruction counts
of bench.sh's INSNS=1 (insns_total, insns_per_op)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECT = os.path.join(os.path.dirname(HERE), "bench-collect.py")

# The plugin's output: 4 marks of the guest, the exit line.
INSN_TXT = """\
mark 0 insns 1000 vcpu0 600 vcpu1 400
mark 1 insns 501000 vcpu0 300600 vcpu1 200400
mark 2 insns 502000 vcpu0 301000 vcpu1 201000
mark 3 insns 1502000 vcpu0 801000 vcpu1 701000
exit insns 1600000 vcpu0 850000 vcpu1 750000
"""


class BenchCollect(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.bench = os.path.join(self.tmp.name, "results", "bench")
        os.makedirs(self.bench)
        self.insns = os.path.join(self.tmp.name, "insn.txt")
        with open(self.insns, "w") as f:
            f.write(INSN_TXT)
        self.workload("pft", {"tool": "faultbench", "workload": "pft", "threads": 2,
                              "seconds": 3, "faults_per_s": 1000.0, "ops": 2500,
                              "user_s": 0.1, "sys_s": 5.0}, "0 1")
        self.workload("ebizzy-mTt-N", {"tool": "ebizzy", "records_per_s": 40.0,
                                       "records": 200, "threads": 2}, "2 3")
        self.write("insn-marks", "4\n")

    def write(self, name, text):
        with open(os.path.join(self.bench, name), "w") as f:
            f.write(text)

    def workload(self, name, obj, marks, rc=0):
        self.write(name + ".json", json.dumps(obj) + "\n")
        self.write(name + ".rc", "%d\n" % rc)
        self.write(name + ".err", "")
        if marks is not None:
            self.write(name + ".insn", marks + "\n")

    def collect(self, *extra):
        out = os.path.join(self.tmp.name, "bench.jsonl")
        p = subprocess.run(
            [sys.executable, COLLECT, "--kernel", "vanilla", "--smp", "2", "--round", "1",
             "--results", os.path.join(self.tmp.name, "results"), "--out", out] + list(extra),
            capture_output=True, text=True)
        rows = []
        if os.path.exists(out):
            with open(out) as f:
                rows = [json.loads(line) for line in f]
        return p.returncode, rows, p.stderr

    def metrics(self, rows, workload):
        return {r["metric"]: r for r in rows if r["workload"] == workload}

    def test_without_insns_no_insn_metrics(self):
        rc, rows, err = self.collect()
        self.assertEqual(rc, 0, err)
        pft = self.metrics(rows, "pft")
        self.assertEqual(set(pft), {"faults_per_s", "user_s", "sys_s"})
        self.assertNotIn("better", pft["faults_per_s"])

    def test_insns_per_op_from_ops_and_records(self):
        rc, rows, err = self.collect("--insns", self.insns)
        self.assertEqual(rc, 0, err)
        pft = self.metrics(rows, "pft")
        self.assertEqual(pft["insns_total"]["value"], 500000)
        self.assertAlmostEqual(pft["insns_per_op"]["value"], 200.0)
        self.assertEqual(pft["insns_per_op"]["better"], "lower")
        self.assertEqual(pft["insns_total"]["better"], "lower")
        self.assertEqual(pft["insns_per_op"]["round"], 1)
        eb = self.metrics(rows, "ebizzy-mTt-N")
        self.assertEqual(eb["insns_total"]["value"], 1000000)
        self.assertAlmostEqual(eb["insns_per_op"]["value"], 5000.0)

    def test_workload_without_a_count_has_only_insns_total(self):
        self.workload("writer", {"tool": "faultbench", "workload": "writer",
                                 "fault_ratio": 0.9}, "0 3")
        rc, rows, err = self.collect("--insns", self.insns)
        self.assertEqual(rc, 0, err)
        writer = self.metrics(rows, "writer")
        self.assertEqual(writer["insns_total"]["value"], 1501000)
        self.assertNotIn("insns_per_op", writer)

    def test_a_stray_mark_is_an_error(self):
        self.write("insn-marks", "3\n")
        rc, _, err = self.collect("--insns", self.insns)
        self.assertEqual(rc, 1)
        self.assertIn("the guest ran 3 marks, the plugin saw 4", err)

    def test_missing_marks_of_a_workload_is_an_error(self):
        os.remove(os.path.join(self.bench, "pft.insn"))
        rc, _, err = self.collect("--insns", self.insns)
        self.assertEqual(rc, 1)
        self.assertIn("pft smp=2: no instruction counts", err)

    def test_no_guest_marks_is_an_error(self):
        os.remove(os.path.join(self.bench, "insn-marks"))
        rc, _, err = self.collect("--insns", self.insns)
        self.assertEqual(rc, 1)
        self.assertIn("insn-mark in the initramfs", err)

    def test_spf_counters(self):
        self.write("pft.vmstat", "spf_attempt 2000\nspf_success 1990\n"
                                 "spf_abort_not_anon 4\nspf_handover 6\n")
        rc, rows, err = self.collect()
        self.assertEqual(rc, 0, err)
        pft = self.metrics(rows, "pft")
        self.assertEqual(pft["spf_attempts"]["value"], 2000)
        self.assertEqual(pft["spf_aborts"]["value"], 10)
        self.assertEqual(pft["spf_aborts"]["better"], "lower")
        self.assertAlmostEqual(pft["spf_success_pct"]["value"], 99.5)
        self.assertEqual(pft["spf_success_pct"]["better"], "higher")
        # A kernel without the counters (vanilla): no vmstat file, no rows.
        self.assertNotIn("spf_attempts", self.metrics(rows, "ebizzy-mTt-N"))

    def test_spf_no_attempt_has_no_percentage(self):
        self.write("pft.vmstat", "spf_attempt 0\nspf_success 0\n")
        rc, rows, err = self.collect()
        self.assertEqual(rc, 0, err)
        pft = self.metrics(rows, "pft")
        self.assertEqual(pft["spf_attempts"]["value"], 0)
        self.assertNotIn("spf_success_pct", pft)

    def test_malformed_spf_counters_are_an_error(self):
        for text, msg in (("spf_attempt 10\n", "no spf_success"),
                          ("spf_attempt 10\nspf_success 11\n", "11 successes of 10"),
                          ("spf_attempt ten\nspf_success 1\n", "invalid literal"),
                          ("pgfault 10\n", "unexpected line")):
            self.write("pft.vmstat", text)
            rc, _, err = self.collect()
            self.assertEqual(rc, 1, text)
            self.assertIn(msg, err)


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""Tests of scripts/verdict.py: the runner must see every kind of splat."""

import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import verdict  # noqa: E402


def log(name):
    return verdict.read_lines(os.path.join(HERE, "logs", name))


class SplatScanner(unittest.TestCase):
    def kinds(self, name):
        return [r["name"] for r in verdict.scan_console(log(name))
                if r["status"] == "fail"]

    def test_lockdep_report_is_a_failure(self):
        found = self.kinds("lockdep.log")
        self.assertEqual(len(found), 1)
        self.assertTrue(found[0].startswith("splat-warning-line-4"))

    def test_kasan_report_is_a_failure(self):
        found = self.kinds("kasan.log")
        self.assertEqual(len(found), 1, found)
        self.assertIn("line-2", found[0])

    def test_kasan_excerpt_names_the_access(self):
        recs = verdict.scan_console(log("kasan.log"))
        self.assertIn("use-after-free in handle_mm_fault", recs[0]["detail"])

    def test_rcu_stall_is_a_failure(self):
        self.assertEqual(len(self.kinds("rcu-stall.log")), 1)

    def test_hung_task_is_a_failure(self):
        self.assertEqual(len(self.kinds("hung-task.log")), 1)

    def test_deliberate_warn_inside_window_is_the_self_test(self):
        recs = verdict.scan_console(log("clean-kunit.log"))
        self.assertEqual([(r["name"], r["status"]) for r in recs],
                         [("scanner-detects-deliberate-warn", "pass")])

    def test_same_warn_outside_window_fails(self):
        lines = [x for x in log("clean-kunit.log") if "EXPECT-SPLAT" not in x]
        recs = verdict.scan_console(lines)
        self.assertEqual([r["status"] for r in recs], ["fail"])

    def test_empty_window_fails_the_self_test(self):
        lines = ["MMSCALE-EXPECT-SPLAT-BEGIN\n", "nothing here\n",
                 "MMSCALE-EXPECT-SPLAT-END\n"]
        recs = verdict.scan_console(lines)
        self.assertEqual([r["status"] for r in recs], ["fail"])

    def test_each_window_needs_its_own_report(self):
        warn = list(log("clean-kunit.log"))
        empty = ["MMSCALE-EXPECT-SPLAT-BEGIN\n", "nothing here\n",
                 "MMSCALE-EXPECT-SPLAT-END\n"]
        recs = verdict.scan_console(warn + empty)
        self.assertEqual([(r["name"], r["status"]) for r in recs],
                         [("scanner-detects-deliberate-warn", "pass"),
                          ("scanner-detects-expected-splat-2", "fail")])
        recs = verdict.scan_console(warn + warn)
        self.assertEqual([r["status"] for r in recs], ["pass", "pass"])

    def test_user_segfault_message_is_not_a_splat(self):
        lines = ["[ 1.0] segv_race[77]: segfault at 7f00 ip 401000 sp 7ffe "
                 "error 6 in segv_race[401000+1000]\n"]
        self.assertEqual(verdict.scan_console(lines), [])


class TapParser(unittest.TestCase):
    def test_ktap_leaf_cases_with_suite_prefix(self):
        recs = verdict.parse_tap(log("clean-kunit.log"), "kunit")
        got = [(r["name"], r["status"]) for r in recs]
        self.assertEqual(got, [
            ("list-kernel-test.list_test_list_init", "pass"),
            ("list-kernel-test.list_test_list_add", "pass"),
            ("list-kernel-test.list_test_list_del", "skip"),
            ("range-lock.adjacent_ranges_do_not_conflict", "pass"),
            ("range-lock.fifo_order_among_writers", "fail"),
        ])

    def test_suite_crash_without_failed_case_is_reported(self):
        lines = ["    # Subtest: s\n", "    1..3\n", "    ok 1 - a\n",
                 "not ok 1 - s\n"]
        recs = verdict.parse_tap(lines, "kunit")
        self.assertEqual([(r["name"], r["status"]) for r in recs],
                         [("s.a", "pass"), ("s", "fail")])

    def test_kselftest_harness_output(self):
        lines = ["TAP version 13\n", "1..3\n", "# Starting 3 tests\n",
                 "#  RUN           gup.remote ...\n",
                 "ok 1 gup.remote\n",
                 "not ok 2 gup.pin\n",
                 "#  RUN           hold.progress ...\n",
                 "#      SKIP      no speculative faults\n",
                 "ok 3 # SKIP no speculative faults\n",
                 "# FAILED: 1 / 3 tests passed.\n"]
        recs = verdict.parse_tap(lines, "selftests")
        self.assertEqual([(r["name"], r["status"]) for r in recs],
                         [("gup.remote", "pass"), ("gup.pin", "fail"),
                          ("hold.progress", "skip")])
        self.assertEqual(recs[2]["detail"], "no speculative faults")


class GuestRun(unittest.TestCase):
    def run_guest(self, console, files):
        with tempfile.TemporaryDirectory() as d:
            cpath = os.path.join(d, "console.log")
            with open(cpath, "w") as f:
                f.write(console)
            rdir = os.path.join(d, "results")
            for rel, text in files.items():
                path = os.path.join(rdir, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write(text)
            out = os.path.join(d, "out.jsonl")
            verdict.main(["guest", "--console", cpath, "--results", rdir,
                          "--out", out])
            with open(out) as f:
                return [json.loads(x) for x in f]

    def test_guest_that_never_came_up_fails(self):
        recs = self.run_guest("Booting the kernel.\n", {})
        self.assertEqual(recs[0]["name"], "boot")
        self.assertEqual(recs[0]["status"], "fail")

    def test_guest_that_did_not_finish_fails(self):
        recs = self.run_guest("MMSCALE-GUEST-UP\n", {})
        self.assertIn(("finish", "fail"),
                      [(r["name"], r["status"]) for r in recs])

    def test_exit_status_judges_free_form_tests(self):
        recs = self.run_guest("MMSCALE-GUEST-UP\nMMSCALE-GUEST-DONE\n", {
            "vm/mremap_test.rc": "0\n", "vm/mremap_test.log": "ok\n",
            "vm/ksm_tests.rc": "4\n", "vm/ksm_tests.log": "no ksm\n",
            "vm/mlock2-tests.rc": "1\n", "vm/mlock2-tests.log": "boom\n",
            "vm/hang.log": "started\n",
        })
        got = {r["name"]: r["status"] for r in recs if r["suite"] == "vm"}
        self.assertEqual(got, {"mremap_test": "pass", "ksm_tests": "skip",
                               "mlock2-tests": "fail", "hang": "fail"})

    def test_debug_kernel_without_kunit_output_fails(self):
        with tempfile.TemporaryDirectory() as d:
            cpath = os.path.join(d, "console.log")
            with open(cpath, "w") as f:
                f.write("kunit: disabled\nMMSCALE-GUEST-UP\nMMSCALE-GUEST-DONE\n")
            out = os.path.join(d, "out.jsonl")
            verdict.main(["guest", "--console", cpath, "--expect-kunit",
                          "--out", out])
            with open(out) as f:
                recs = [json.loads(x) for x in f]
        self.assertIn(("kunit", "ran", "fail"),
                      [(r["suite"], r["name"], r["status"]) for r in recs])

    def test_crashed_tap_program_fails(self):
        recs = self.run_guest("MMSCALE-GUEST-UP\nMMSCALE-GUEST-DONE\n", {
            "selftests/gup_race.tap": "TAP version 13\n1..2\nok 1 a\n",
            "selftests/gup_race.rc": "139\n",
        })
        got = [(r["name"], r["status"]) for r in recs
               if r["suite"] == "selftests"]
        self.assertEqual(got, [("gup_race.a", "pass"),
                               ("gup_race", "fail")])


class Baseline(unittest.TestCase):
    def test_known_failure_becomes_a_skip_and_regression_fails(self):
        recs = [verdict.record("vm", "a", "fail", "boom"),
                verdict.record("vm", "b", "fail", "bang"),
                verdict.record("vm", "c", "pass"),
                verdict.record("selftests", "a", "fail")]
        verdict.apply_baseline(recs, "vm", {"a": "fail", "b": "pass",
                                            "c": "fail"}, "vanilla 6.1")
        self.assertEqual([r["status"] for r in recs],
                         ["skip", "fail", "pass", "fail"])
        self.assertIn("baseline", recs[0]["detail"])

    def test_bad_baseline_line_is_an_error(self):
        with tempfile.NamedTemporaryFile("w", suffix=".baseline") as f:
            f.write("mremap_test maybe\n")
            f.flush()
            with self.assertRaises(SystemExit):
                verdict.load_baseline(f.name)


class Summary(unittest.TestCase):
    def test_closing_line_and_exit_status(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "r.jsonl")
            verdict.append(out, [verdict.record("s", "a", "pass"),
                                 verdict.record("s", "b", "skip", "why"),
                                 verdict.record("s", "c", "fail", "x\ny")])
            import contextlib
            import io
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                rc = verdict.main(["summary", out])
            self.assertEqual(rc, 1)
            self.assertEqual(buf.getvalue().strip().splitlines()[-1],
                             "1 passed, 1 failed, 1 skipped")


if __name__ == "__main__":
    unittest.main()

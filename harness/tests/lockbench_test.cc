#include "lockbench.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "error.h"
#include "json.h"

namespace mmscale {
namespace {

// A stand-in for the module: every call is recorded; the answer of the k-th
// call of a (lock, write, contended) cell is taken from a per-cell list.
class FakeModule {
 public:
  // Uncontended cells: ns per pair of each round (ops fixed at 1e6).
  void uncontended(LockKind lock, bool write, std::vector<double> ns_per_pair) {
    answers_[{lock, write, false}] = std::move(ns_per_pair);
  }
  // Contended cells: pairs per second of each round (ns fixed at 1e8).
  void contended(LockKind lock, bool write, std::vector<double> pairs_per_s) {
    answers_[{lock, write, true}] = std::move(pairs_per_s);
  }
  void refuse_range() { refuse_range_ = true; }

  LockBencher bencher() {
    return [this](const LockBenchCell& c) {
      calls.push_back(c);
      if (refuse_range_ && c.lock != LockKind::kRwsem)
        throw SysError("ioctl MMSCALE_IOC_LOCK_BENCH", EOPNOTSUPP);
      const std::tuple<LockKind, bool, bool> key{c.lock, c.write, c.threads > 1};
      const std::vector<double>& v = answers_.at(key);
      const double x = v.at(served_[key]++);
      if (c.threads > 1) return LockBenchCount{static_cast<std::uint64_t>(x / 10), 100000000};
      return LockBenchCount{1000000, static_cast<std::uint64_t>(x * 1e6)};
    };
  }

  std::vector<LockBenchCell> calls;

 private:
  std::map<std::tuple<LockKind, bool, bool>, std::vector<double>> answers_;
  std::map<std::tuple<LockKind, bool, bool>, std::size_t> served_;
  bool refuse_range_ = false;
};

LockBenchConfig config(unsigned rounds) {
  LockBenchConfig c;
  c.threads = 4;
  c.duration_ms = 10;
  c.hold_ns = 200;
  c.rounds = rounds;
  return c;
}

// Five rounds with one outlier per cell, chosen so that the median of the
// per-round ratios differs from the ratio of the medians.
FakeModule five_rounds() {
  FakeModule m;
  m.uncontended(LockKind::kRwsem, false, {20, 22, 21, 100, 19});
  m.uncontended(LockKind::kRangeFull, false, {30, 33, 42, 30, 38});
  m.uncontended(LockKind::kRwsem, true, {25, 25, 25, 25, 25});
  m.uncontended(LockKind::kRangeFull, true, {50, 40, 45, 35, 30});
  m.contended(LockKind::kRwsem, true, {1e6, 2e6, 1e6, 1e6, 1e6});
  m.contended(LockKind::kRangeFull, true, {5e5, 5e5, 4e5, 6e5, 5e5});
  m.contended(LockKind::kRangeDisjoint, true, {3e6, 3e6, 3e6, 3e6, 9e6});
  m.contended(LockKind::kRwsem, false, {8e6, 8e6, 8e6, 8e6, 8e6});
  m.contended(LockKind::kRangeFull, false, {4e6, 2e6, 4e6, 6e6, 4e6});
  return m;
}

std::vector<std::string> metric_names(const WorkloadResult& r) {
  std::vector<std::string> names;
  for (const Metric& m : r.metrics) names.push_back(m.name);
  return names;
}

TEST(LockBench, MediansAndRatios) {
  FakeModule m = five_rounds();
  const WorkloadResult r = run_lock_bench(config(5), m.bencher());
  EXPECT_DOUBLE_EQ(r.get("uncontended_rwsem_read_ns"), 21);
  EXPECT_DOUBLE_EQ(r.get("uncontended_range_read_ns"), 33);
  // Per round 1.5, 1.5, 2, 0.3, 2: median 1.5 (the ratio of medians would be 33/21).
  EXPECT_DOUBLE_EQ(r.get("uncontended_read_ratio"), 1.5);
  EXPECT_DOUBLE_EQ(r.get("uncontended_rwsem_write_ns"), 25);
  EXPECT_DOUBLE_EQ(r.get("uncontended_range_write_ns"), 40);
  EXPECT_DOUBLE_EQ(r.get("uncontended_write_ratio"), 40.0 / 25);
  EXPECT_DOUBLE_EQ(r.get("contended_rwsem_write_ops"), 1e6);
  EXPECT_DOUBLE_EQ(r.get("contended_range_full_write_ops"), 5e5);
  EXPECT_DOUBLE_EQ(r.get("contended_range_disjoint_write_ops"), 3e6);
  // Per round 0.5, 0.25, 0.4, 0.6, 0.5.
  EXPECT_DOUBLE_EQ(r.get("contended_write_ratio"), 0.5);
  // Per round 3, 1.5, 3, 3, 9.
  EXPECT_DOUBLE_EQ(r.get("contended_disjoint_write_ratio"), 3);
  EXPECT_DOUBLE_EQ(r.get("contended_rwsem_read_ops"), 8e6);
  EXPECT_DOUBLE_EQ(r.get("contended_range_full_read_ops"), 4e6);
  EXPECT_DOUBLE_EQ(r.get("contended_read_ratio"), 0.5);
  EXPECT_DOUBLE_EQ(r.get("threads"), 4);
  EXPECT_DOUBLE_EQ(r.get("seconds"), 0.01);
  EXPECT_DOUBLE_EQ(r.get("rounds"), 5);
  EXPECT_DOUBLE_EQ(r.get("hold_ns"), 200);
  EXPECT_EQ(metric_names(r),
            (std::vector<std::string>{"uncontended_rwsem_read_ns", "uncontended_range_read_ns",
                                      "uncontended_read_ratio", "uncontended_rwsem_write_ns",
                                      "uncontended_range_write_ns", "uncontended_write_ratio",
                                      "contended_rwsem_write_ops", "contended_range_full_write_ops",
                                      "contended_range_disjoint_write_ops", "contended_write_ratio",
                                      "contended_disjoint_write_ratio", "contended_rwsem_read_ops",
                                      "contended_range_full_read_ops", "contended_read_ratio",
                                      "threads", "seconds", "rounds", "hold_ns"}));
}

TEST(LockBench, CellsInterleavedByRound) {
  FakeModule m = five_rounds();
  run_lock_bench(config(5), m.bencher());
  ASSERT_EQ(m.calls.size(), 45u);
  const std::vector<std::pair<LockKind, bool>> round = {
      {LockKind::kRwsem, false},        {LockKind::kRangeFull, false},
      {LockKind::kRwsem, true},         {LockKind::kRangeFull, true},
      {LockKind::kRwsem, true},         {LockKind::kRangeFull, true},
      {LockKind::kRangeDisjoint, true}, {LockKind::kRwsem, false},
      {LockKind::kRangeFull, false}};
  for (std::size_t i = 0; i < m.calls.size(); ++i) {
    const LockBenchCell& c = m.calls[i];
    const std::size_t k = i % round.size();
    EXPECT_EQ(c.lock, round[k].first) << "call " << i;
    EXPECT_EQ(c.write, round[k].second) << "call " << i;
    EXPECT_EQ(c.duration_ms, 10u);
    EXPECT_EQ(c.threads, k < 4 ? 1u : 4u) << "call " << i;
    EXPECT_EQ(c.hold_ns, k < 4 ? 0u : 200u) << "call " << i;
  }
}

TEST(LockBench, OneRound) {
  FakeModule m = five_rounds();
  const WorkloadResult r = run_lock_bench(config(1), m.bencher());
  EXPECT_EQ(m.calls.size(), 9u);
  EXPECT_DOUBLE_EQ(r.get("uncontended_rwsem_read_ns"), 20);
  EXPECT_DOUBLE_EQ(r.get("contended_disjoint_write_ratio"), 3);
}

TEST(LockBench, WithoutRangeLockOnlyRwsem) {
  FakeModule m = five_rounds();
  m.refuse_range();
  const WorkloadResult r = run_lock_bench(config(5), m.bencher());
  EXPECT_EQ(metric_names(r),
            (std::vector<std::string>{"uncontended_rwsem_read_ns", "uncontended_rwsem_write_ns",
                                      "contended_rwsem_write_ops", "contended_rwsem_read_ops",
                                      "threads", "seconds", "rounds", "hold_ns"}));
  EXPECT_DOUBLE_EQ(r.get("uncontended_rwsem_read_ns"), 21);
  EXPECT_DOUBLE_EQ(r.get("contended_rwsem_read_ops"), 8e6);
  // The range kinds are asked once, in round 1, and never again.
  std::size_t range_calls = 0;
  for (const LockBenchCell& c : m.calls) range_calls += c.lock != LockKind::kRwsem;
  EXPECT_EQ(range_calls, 1u);
  EXPECT_EQ(m.calls.size(), 5u * 4 + 1);
  EXPECT_NE(r.to_text().find("# range_lock: not in this kernel"), std::string::npos) << r.to_text();
  const std::string json = r.to_json("lockbench", WorkloadParams{}).dump();
  EXPECT_EQ(json.find("range"), std::string::npos) << json;
  EXPECT_EQ(json.find("ratio"), std::string::npos) << json;
}

TEST(LockBench, RwsemRefusedIsAnError) {
  FakeModule m = five_rounds();
  const LockBencher inner = m.bencher();
  const LockBencher refuse_all = [&inner](const LockBenchCell& c) -> LockBenchCount {
    if (c.lock == LockKind::kRwsem) throw SysError("ioctl MMSCALE_IOC_LOCK_BENCH", EOPNOTSUPP);
    return inner(c);
  };
  try {
    run_lock_bench(config(1), refuse_all);
    FAIL() << "no error";
  } catch (const SysError& e) {
    EXPECT_EQ(e.err(), EOPNOTSUPP);
  }
}

TEST(LockBench, OtherErrorsAreFailures) {
  for (const LockKind kind : {LockKind::kRwsem, LockKind::kRangeFull}) {
    FakeModule m = five_rounds();
    const LockBencher inner = m.bencher();
    const LockBencher fail = [&inner, kind](const LockBenchCell& c) -> LockBenchCount {
      if (c.lock == kind) throw SysError("ioctl MMSCALE_IOC_LOCK_BENCH", EINVAL);
      return inner(c);
    };
    try {
      run_lock_bench(config(2), fail);
      FAIL() << "no error";
    } catch (const SysError& e) {
      EXPECT_EQ(e.err(), EINVAL);
      EXPECT_NE(std::string(e.what()).find("errno 22"), std::string::npos) << e.what();
    }
  }
}

TEST(LockBench, RangeRefusedAfterItRanIsAnError) {
  FakeModule m = five_rounds();
  const LockBencher inner = m.bencher();
  int range_calls = 0;
  const LockBencher flaky = [&](const LockBenchCell& c) -> LockBenchCount {
    if (c.lock != LockKind::kRwsem && ++range_calls > 1)
      throw SysError("ioctl MMSCALE_IOC_LOCK_BENCH", EOPNOTSUPP);
    return inner(c);
  };
  EXPECT_THROW(run_lock_bench(config(2), flaky), SysError);
}

TEST(LockBench, NoPairsIsAnError) {
  const LockBencher none = [](const LockBenchCell&) { return LockBenchCount{0, 1000000}; };
  EXPECT_THROW(run_lock_bench(config(1), none), std::runtime_error);
}

TEST(LockBench, JsonIsFlatAndNumeric) {
  FakeModule m = five_rounds();
  const WorkloadResult r = run_lock_bench(config(5), m.bencher());
  WorkloadParams p;  // -t and -S not given: the header comes from the result
  const Json j = parse_json(r.to_json("lockbench", p).dump());
  std::set<std::string> keys;
  for (const auto& [key, value] : j.as_object()) {
    EXPECT_TRUE(keys.insert(key).second) << "duplicate " << key;
    if (key == "tool" || key == "workload")
      EXPECT_TRUE(value.is_string());
    else
      EXPECT_TRUE(value.is_number()) << key;
  }
  EXPECT_EQ(j.find("workload")->as_string(), "lockbench");
  EXPECT_DOUBLE_EQ(j.find("threads")->as_number(), 4);
  EXPECT_DOUBLE_EQ(j.find("seconds")->as_number(), 0.01);
  EXPECT_DOUBLE_EQ(j.find("rounds")->as_number(), 5);
  EXPECT_DOUBLE_EQ(j.find("contended_read_ratio")->as_number(), 0.5);
  EXPECT_EQ(j.find("per_thread"), nullptr);
  EXPECT_EQ(keys.size(), 2 + 18u);
}

TEST(LockBenchConfig, Defaults) {
  const WorkloadParams p;
  LockBenchConfig c = lock_bench_config(p, 8);
  EXPECT_EQ(c.threads, 8u);
  EXPECT_EQ(c.duration_ms, 300u);  // not -S's default of 5 s
  EXPECT_EQ(c.hold_ns, 200u);
  EXPECT_EQ(c.rounds, 5u);
  EXPECT_EQ(lock_bench_config(p, 1).threads, 2u);  // at least 2
  EXPECT_EQ(lock_bench_config(p, 0).threads, 2u);  // unknown
  EXPECT_EQ(lock_bench_config(p, 256).threads, 64u);
}

TEST(LockBenchConfig, GivenValues) {
  WorkloadParams p;
  p.threads = 3;
  p.threads_given = true;
  p.seconds = 0.05;
  p.seconds_given = true;
  p.hold_ns = 0;
  p.rounds = 1;
  const LockBenchConfig c = lock_bench_config(p, 8);
  EXPECT_EQ(c.threads, 3u);
  EXPECT_EQ(c.duration_ms, 50u);
  EXPECT_EQ(c.hold_ns, 0u);
  EXPECT_EQ(c.rounds, 1u);
}

TEST(LockBenchConfig, BadValues) {
  const auto bad = [](auto change) {
    WorkloadParams p;
    change(p);
    EXPECT_THROW(lock_bench_config(p, 4), UsageError);
  };
  bad([](WorkloadParams& p) {
    p.threads = 1;
    p.threads_given = true;
  });
  bad([](WorkloadParams& p) {
    p.threads = 65;
    p.threads_given = true;
  });
  bad([](WorkloadParams& p) {
    p.seconds = 0.0004;
    p.seconds_given = true;
  });
  bad([](WorkloadParams& p) {
    p.seconds = 61;
    p.seconds_given = true;
  });
  bad([](WorkloadParams& p) { p.rounds = 0; });
  bad([](WorkloadParams& p) { p.rounds = 101; });
  bad([](WorkloadParams& p) { p.rounds = 1ULL << 32; });
  bad([](WorkloadParams& p) { p.hold_ns = 100001; });
}

TEST(LockBenchWorkload, RegisteredAndSkipsWithoutModule) {
  const auto w = make_workload("lockbench");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->name(), "lockbench");
  WorkloadParams p;
  p.ctl_path = "/nonexistent/mmscale/ctl";
  p.rounds = 1;
  EXPECT_THROW(w->run(p), SkipError);
  // Bad values are reported before the control file is opened.
  p.rounds = 0;
  EXPECT_THROW(w->run(p), UsageError);
}

}  // namespace
}  // namespace mmscale

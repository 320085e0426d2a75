// lockbench: the cost of range_lock against rw_semaphore, measured by the
// test module (MMSCALE_IOC_LOCK_BENCH: kthreads lock and unlock one lock in a
// loop for a given time and count the pairs).
//
// Per round, nine cells (ioctl calls): the uncontended cost (1 thread, empty
// hold) of rwsem and full-range range_lock, read and write, then throughput
// with -t threads and a busy hold of --hold-ns: rwsem, full range and
// disjoint ranges for write, rwsem and full range for read.  The cells of a
// round run back to back and rounds repeat, so that a slow phase of the host
// hits every cell alike; each cell reports the median over rounds, each
// ratio the median of its per-round ratios.
#include "lockbench.h"

#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "error.h"
#include "holdlat.h"
#include "mmscale_test.h"
#include "stats.h"

namespace mmscale {

static_assert(static_cast<std::uint32_t>(LockKind::kRwsem) == MMSCALE_LB_RWSEM);
static_assert(static_cast<std::uint32_t>(LockKind::kRangeFull) == MMSCALE_LB_RANGE_FULL);
static_assert(static_cast<std::uint32_t>(LockKind::kRangeDisjoint) == MMSCALE_LB_RANGE_DISJOINT);

namespace {

// The module's limits (module/mmscale_lockbench.c) and our own.
constexpr unsigned kMaxThreads = 64;
constexpr unsigned kMaxCellMs = 60000;
constexpr std::uint64_t kMaxHoldNs = 100000;
constexpr std::uint64_t kMaxRounds = 100;
constexpr unsigned kDefaultCellMs = 300;

struct CellSpec {
  const char* metric;
  const char* unit;
  LockKind lock;
  bool write;
  bool contended;  // -t threads and --hold-ns; else 1 thread, hold 0
};

// In the order of a round.  Uncontended cells report ns per pair (ns / ops),
// contended ones pairs per second of all threads (ops * 1e9 / ns).
constexpr CellSpec kCells[] = {
    {"uncontended_rwsem_read_ns", "ns/pair", LockKind::kRwsem, false, false},
    {"uncontended_range_read_ns", "ns/pair", LockKind::kRangeFull, false, false},
    {"uncontended_rwsem_write_ns", "ns/pair", LockKind::kRwsem, true, false},
    {"uncontended_range_write_ns", "ns/pair", LockKind::kRangeFull, true, false},
    {"contended_rwsem_write_ops", "pairs/s", LockKind::kRwsem, true, true},
    {"contended_range_full_write_ops", "pairs/s", LockKind::kRangeFull, true, true},
    {"contended_range_disjoint_write_ops", "pairs/s", LockKind::kRangeDisjoint, true, true},
    {"contended_rwsem_read_ops", "pairs/s", LockKind::kRwsem, false, true},
    {"contended_range_full_read_ops", "pairs/s", LockKind::kRangeFull, false, true},
};
constexpr std::size_t kNumCells = std::size(kCells);

// kCells[num] / kCells[den] per round, reported right after kCells[after].
struct RatioSpec {
  const char* metric;
  std::size_t num, den, after;
};
constexpr RatioSpec kRatios[] = {
    {"uncontended_read_ratio", 1, 0, 1}, {"uncontended_write_ratio", 3, 2, 3},
    {"contended_write_ratio", 5, 4, 6},  {"contended_disjoint_write_ratio", 6, 4, 6},
    {"contended_read_ratio", 8, 7, 8},
};

const char* lock_name(LockKind k) {
  switch (k) {
    case LockKind::kRwsem:
      return "rwsem";
    case LockKind::kRangeFull:
      return "range_full";
    case LockKind::kRangeDisjoint:
      return "range_disjoint";
  }
  return "?";
}

std::string describe(const LockBenchCell& c) {
  return std::string(lock_name(c.lock)) + (c.write ? " write, " : " read, ") +
         std::to_string(c.threads) + (c.threads == 1 ? " thread, " : " threads, ") +
         std::to_string(c.duration_ms) + " ms, hold " + std::to_string(c.hold_ns) + " ns";
}

double median(const std::vector<double>& v) { return Stats(v).median(); }

class LockBench : public Workload {
 public:
  std::string_view name() const override { return "lockbench"; }
  std::string_view description() const override {
    return "range_lock vs rwsem: uncontended ns/pair, pairs/s with -t threads (needs module)";
  }

  WorkloadResult run(const WorkloadParams& p) override {
    const LockBenchConfig c = lock_bench_config(p, std::thread::hardware_concurrency());
    const FileDescriptor ctl = open_module_ctl(p.ctl_path, 0, "");
    return run_lock_bench(c, [&ctl](const LockBenchCell& cell) {
      mmscale_lock_bench b{};
      b.lock = static_cast<__u32>(cell.lock);
      b.write = cell.write ? 1 : 0;
      b.nr_threads = cell.threads;
      b.duration_ms = cell.duration_ms;
      b.hold_ns = cell.hold_ns;
      if (::ioctl(ctl.get(), MMSCALE_IOC_LOCK_BENCH, &b) != 0)
        throw_errno("ioctl MMSCALE_IOC_LOCK_BENCH (" + describe(cell) + ")");
      return LockBenchCount{b.ops, b.ns};
    });
  }
};

}  // namespace

LockBenchConfig lock_bench_config(const WorkloadParams& p, unsigned online_cpus) {
  LockBenchConfig c;
  if (p.threads_given) {
    if (p.threads < 2 || p.threads > kMaxThreads)
      throw UsageError("lockbench: -t must be in 2..64 (the contended cells need 2 threads)");
    c.threads = p.threads;
  } else {
    c.threads = std::clamp(online_cpus, 2u, kMaxThreads);
  }
  c.duration_ms = kDefaultCellMs;
  if (p.seconds_given) {
    const double ms = p.seconds * 1000;
    if (!(ms >= 1 && ms <= kMaxCellMs))
      throw UsageError("lockbench: -S (seconds per cell) must be in 0.001..60");
    c.duration_ms = static_cast<unsigned>(std::lround(ms));
  }
  if (p.hold_ns > kMaxHoldNs) throw UsageError("lockbench: --hold-ns must be in 0..100000");
  c.hold_ns = static_cast<unsigned>(p.hold_ns);
  if (p.rounds < 1 || p.rounds > kMaxRounds)
    throw UsageError("lockbench: --rounds must be in 1..100");
  c.rounds = static_cast<unsigned>(p.rounds);
  return c;
}

WorkloadResult run_lock_bench(const LockBenchConfig& c, const LockBencher& bench) {
  std::vector<double> values[kNumCells];  // per cell, one value per round
  bool range_supported = true, range_ran = false;
  for (unsigned round = 0; round < c.rounds; ++round) {
    for (std::size_t i = 0; i < kNumCells; ++i) {
      const CellSpec& spec = kCells[i];
      const bool range = spec.lock != LockKind::kRwsem;
      if (range && !range_supported) continue;
      LockBenchCell cell;
      cell.lock = spec.lock;
      cell.write = spec.write;
      cell.threads = spec.contended ? c.threads : 1;
      cell.duration_ms = c.duration_ms;
      cell.hold_ns = spec.contended ? c.hold_ns : 0;
      LockBenchCount n;
      try {
        n = bench(cell);
      } catch (const SysError& e) {
        // A kernel without range_lock refuses every range kind from the
        // start; a refusal after range cells ran is an error like any other.
        if (e.err() != EOPNOTSUPP || !range || range_ran) throw;
        range_supported = false;
        continue;
      }
      if (n.ops == 0 || n.ns == 0)
        throw std::runtime_error("MMSCALE_IOC_LOCK_BENCH (" + describe(cell) +
                                 "): " + std::to_string(n.ops) + " pairs in " +
                                 std::to_string(n.ns) + " ns; use a longer -S");
      range_ran = range_ran || range;
      const auto ops = static_cast<double>(n.ops), ns = static_cast<double>(n.ns);
      values[i].push_back(spec.contended ? ops * 1e9 / ns : ns / ops);
    }
  }

  WorkloadResult r;
  const unsigned cells = range_supported ? kNumCells : 4;
  r.notes.push_back(
      "lockbench: " + std::to_string(c.rounds) + " rounds of " + std::to_string(cells) +
      " cells of " + std::to_string(c.duration_ms) +
      " ms; uncontended: 1 thread, hold 0 ns; contended: " + std::to_string(c.threads) +
      " threads, hold " + std::to_string(c.hold_ns) + " ns");
  r.notes.push_back(
      "*_ns: ns per lock+unlock pair (ratio > 1: range_lock costs more); *_ops: pairs/s of all "
      "threads (ratio < 1: range_lock is slower); medians over rounds");
  if (!range_supported)
    r.notes.push_back(
        "range_lock: not in this kernel (MMSCALE_IOC_LOCK_BENCH: EOPNOTSUPP): rwsem only, range "
        "fields and ratios omitted");
  for (std::size_t i = 0; i < kNumCells; ++i) {
    if (!values[i].empty())
      r.metrics.push_back({kCells[i].metric, median(values[i]), kCells[i].unit});
    for (const RatioSpec& q : kRatios) {
      if (q.after != i || values[q.num].empty() || values[q.den].empty()) continue;
      std::vector<double> ratios;
      for (std::size_t k = 0; k < values[q.num].size(); ++k)
        ratios.push_back(values[q.num][k] / values[q.den][k]);
      r.metrics.push_back({q.metric, median(ratios), ""});
    }
  }
  r.metrics.push_back({"threads", static_cast<double>(c.threads), "threads (contended)"});
  r.metrics.push_back({"seconds", c.duration_ms / 1e3, "s per cell"});
  r.metrics.push_back({"rounds", static_cast<double>(c.rounds), ""});
  r.metrics.push_back({"hold_ns", static_cast<double>(c.hold_ns), "ns (contended)"});
  return r;
}

std::unique_ptr<Workload> make_lockbench() { return std::make_unique<LockBench>(); }

}  // namespace mmscale

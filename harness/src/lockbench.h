// lockbench: range_lock against rw_semaphore through the test module's
// MMSCALE_IOC_LOCK_BENCH.  The protocol and the statistics are separate from
// the ioctl so that they can be unit-tested with a stand-in for the module.
#pragma once

#include <cstdint>
#include <functional>

#include "workload.h"

namespace mmscale {

// enum mmscale_lock_bench_lock (module/mmscale_test.h; checked in lockbench.cc).
enum class LockKind : std::uint32_t { kRwsem = 0, kRangeFull = 1, kRangeDisjoint = 2 };

// One MMSCALE_IOC_LOCK_BENCH call ("cell").
struct LockBenchCell {
  LockKind lock = LockKind::kRwsem;
  bool write = false;
  unsigned threads = 1;
  unsigned duration_ms = 1;
  unsigned hold_ns = 0;
};

// What the module returns: lock+unlock pairs of all threads, wall time.
struct LockBenchCount {
  std::uint64_t ops = 0;
  std::uint64_t ns = 0;
};

// Runs one cell (the module's ioctl, or a stand-in in tests).  Throws
// SysError; EOPNOTSUPP for a range kind means "no range_lock in this kernel".
using LockBencher = std::function<LockBenchCount(const LockBenchCell&)>;

struct LockBenchConfig {
  unsigned threads = 2;        // contended cells (the uncontended ones use 1)
  unsigned duration_ms = 300;  // per cell
  unsigned hold_ns = 200;      // contended cells (the uncontended ones use 0)
  unsigned rounds = 5;
};

// -t (2..64; default: the online CPUs, clamped to 2..64), -S (seconds per
// cell, 0.001..60, whole ms; default 0.3), --hold-ns (0..100000), --rounds
// (1..100).  Throws UsageError.
LockBenchConfig lock_bench_config(const WorkloadParams& p, unsigned online_cpus);

// @c.rounds rounds of every cell, interleaved (round 1: each cell once, round
// 2: each cell once, ...), then per cell the median over rounds and per
// ratio the median of the per-round ratios.  On EOPNOTSUPP for the range
// kinds only the rwsem cells are run and reported.  Metrics: see README.md.
WorkloadResult run_lock_bench(const LockBenchConfig& c, const LockBencher& bench);

}  // namespace mmscale

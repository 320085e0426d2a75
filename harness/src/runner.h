// Clocks and a timed multi-thread driver shared by the benchmarks.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace mmscale {

// CLOCK_MONOTONIC in nanoseconds: the clock the test module reports in.
std::uint64_t monotonic_ns();

struct CpuTimes {
  double user_s = 0;
  double sys_s = 0;
};
CpuTimes process_cpu_times();  // getrusage(RUSAGE_SELF)

// One benchmark thread: loops until @stop becomes true and returns how many
// operations it completed.
using ThreadBody = std::function<std::uint64_t(const std::atomic<bool>& stop)>;

struct ThreadResult {
  std::uint64_t ops = 0;
  double seconds = 0;  // from the common start to this thread noticing stop
  double rate() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0.0; }
};

struct TimedRun {
  std::vector<ThreadResult> threads;  // in the order of the bodies
  double wall_s = 0;                  // start to stop signal
  CpuTimes cpu;                       // user/sys time used during the run
};

// Starts one thread per body, releases them together (std::latch), lets them
// run for @duration, sets the stop flag and joins them.  An exception thrown
// by a body stops the others and is rethrown here.
TimedRun run_timed(std::span<const ThreadBody> bodies, std::chrono::duration<double> duration);

// Sum of the per-thread rates.
double total_rate(std::span<const ThreadResult> threads);

// A store the compiler may not drop: one byte, which faults the page in.
inline void touch_byte(std::byte* p) { *reinterpret_cast<volatile char*>(p) = 1; }
// A load the compiler may not drop: one byte, which faults the page in
// (the zero page, in untouched anonymous memory).
inline char read_byte(const std::byte* p) { return *reinterpret_cast<const volatile char*>(p); }

}  // namespace mmscale

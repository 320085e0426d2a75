// holdlat's analysis, separate from the run so that it can be unit-tested,
// and the opening of the test module's control file (holdlat, lockbench).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>

#include "mapping.h"
#include "workload.h"

namespace mmscale {

// Opens the test module's control file (@path; MMSCALE_DEBUGFS_CTL if empty)
// and checks MMSCALE_IOC_FEATURES: ABI version MMSCALE_ABI_VERSION and every
// MMSCALE_FEAT_* bit of @required (@what names them in the message).
// SkipError if the file is missing, the module is of another ABI version or
// lacks a required feature; SysError on any other error.
FileDescriptor open_module_ctl(const std::string& path, std::uint64_t required,
                               const std::string& what);

// CLOCK_MONOTONIC start and end of one fault (one touch of a fresh page).
struct FaultSample {
  std::uint64_t start_ns;
  std::uint64_t end_ns;
};

// Metrics of a holdlat run whose mmap_lock hold lasted [acquire_ns,
// release_ns]: faults completed inside the window, latency median/p99.9/max
// over all faults and over the faults that started inside the window.
WorkloadResult analyse_hold_latency(std::span<const FaultSample> samples, std::uint64_t acquire_ns,
                                    std::uint64_t release_ns, std::size_t recycles, bool truncated);

// Holds mmap_lock for @hold_ms (the module's MMSCALE_IOC_HOLD, or a stand-in
// in tests) and returns the CLOCK_MONOTONIC acquire and release times.
using LockHolder = std::function<std::pair<std::uint64_t, std::uint64_t>(unsigned hold_ms)>;

// The holdlat protocol with @hold in the main thread: faulter thread starts,
// ~100 ms lead, hold, ~100 ms tail, then analyse_hold_latency().
WorkloadResult run_hold_latency(const WorkloadParams& p, const LockHolder& hold);

}  // namespace mmscale

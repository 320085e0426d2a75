#include "holdlat.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "error.h"
#include "runner.h"

namespace mmscale {
namespace {

constexpr std::uint64_t kMs = 1000000;

// 100 fast faults (10 us, one per ms) before the hold, one fault that starts
// inside the hold and waits for the release (the classic kernel), then 100
// fast faults after it.
std::vector<FaultSample> blocked_run() {
  std::vector<FaultSample> s;
  for (std::uint64_t i = 0; i < 100; ++i) s.push_back({i * kMs, i * kMs + 10000});
  s.push_back({100 * kMs + kMs / 2, 1600 * kMs + 100000});
  for (std::uint64_t i = 0; i < 100; ++i)
    s.push_back({1601 * kMs + i * kMs, 1601 * kMs + i * kMs + 10000});
  return s;
}

TEST(HoldLatAnalysis, BlockedFaultDominatesTheTail) {
  const WorkloadResult r = analyse_hold_latency(blocked_run(), 100 * kMs, 1600 * kMs, 0, false);
  EXPECT_DOUBLE_EQ(r.get("hold_ms"), 1500);
  EXPECT_DOUBLE_EQ(r.get("faults_total"), 201);
  EXPECT_DOUBLE_EQ(r.get("faults_in_hold"), 0);
  EXPECT_DOUBLE_EQ(r.get("faults_per_s_in_hold"), 0);
  EXPECT_DOUBLE_EQ(r.get("faults_started_in_hold"), 1);
  EXPECT_DOUBLE_EQ(r.get("started_in_hold_latency_max_ns"), 1499.6 * kMs);
  EXPECT_DOUBLE_EQ(r.get("latency_max_ns"), 1499.6 * kMs);
  EXPECT_DOUBLE_EQ(r.get("latency_median_ns"), 10000);
  EXPECT_GT(r.get("latency_p99_9_ns"), 10000);
  EXPECT_DOUBLE_EQ(r.get("samples_truncated"), 0);
}

TEST(HoldLatAnalysis, FaultsProgressingInsideTheWindow) {
  std::vector<FaultSample> s;
  for (std::uint64_t i = 0; i < 2000; ++i) s.push_back({i * kMs, i * kMs + 20000});
  const WorkloadResult r = analyse_hold_latency(s, 100 * kMs, 1600 * kMs, 2, true);
  EXPECT_DOUBLE_EQ(r.get("faults_in_hold"), 1500);  // ends at 100.02 .. 1599.02 ms
  EXPECT_DOUBLE_EQ(r.get("faults_per_s_in_hold"), 1000);
  EXPECT_DOUBLE_EQ(r.get("faults_started_in_hold"), 1501);  // starts at 100 .. 1600 ms
  EXPECT_DOUBLE_EQ(r.get("started_in_hold_latency_max_ns"), 20000);
  EXPECT_DOUBLE_EQ(r.get("region_recycles"), 2);
  EXPECT_DOUBLE_EQ(r.get("samples_truncated"), 1);
}

TEST(HoldLatAnalysis, EmptyRunHasAllMetrics) {
  const WorkloadResult r = analyse_hold_latency({}, 5, 10, 0, false);
  EXPECT_EQ(r.metrics.size(), 13u);
  EXPECT_DOUBLE_EQ(r.get("latency_max_ns"), 0);
}

// The whole protocol with a stand-in for the module that holds nothing: the
// faulter must run before, during and after the "hold".
TEST(HoldLatProtocol, FaultsAroundAFakeHold) {
  WorkloadParams p;
  p.hold_ms = 200;
  p.size = 8 << 20;  // small enough to be recycled on a fast host
  unsigned asked = 0;
  const WorkloadResult r = run_hold_latency(p, [&asked](unsigned hold_ms) {
    asked = hold_ms;
    const std::uint64_t acquire = monotonic_ns();
    std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
    return std::make_pair(acquire, monotonic_ns());
  });
  EXPECT_EQ(asked, 200u);
  EXPECT_GE(r.get("hold_ms"), 200);
  EXPECT_LT(r.get("hold_ms"), 5000);  // generous: the host may be loaded
  EXPECT_GT(r.get("faults_in_hold"), 0);
  EXPECT_GT(r.get("faults_total"), r.get("faults_in_hold"));  // lead and tail faults too
  EXPECT_GT(r.get("faults_per_s_outside_hold"), 0);
  EXPECT_GT(r.get("faults_started_in_hold"), 0);
  EXPECT_GT(r.get("latency_max_ns"), 0);
}

TEST(HoldLatProtocol, HolderErrorStopsTheFaulter) {
  WorkloadParams p;
  p.size = 1 << 20;
  EXPECT_THROW(run_hold_latency(p,
                                [](unsigned) -> std::pair<std::uint64_t, std::uint64_t> {
                                  throw SysError("ioctl MMSCALE_IOC_HOLD", EPERM);
                                }),
               SysError);
}

}  // namespace
}  // namespace mmscale

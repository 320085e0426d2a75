// Runs every workload briefly on the host: each must report a positive rate.
#include <gtest/gtest.h>

#include <cstdint>

#include "ebizzy.h"
#include "error.h"
#include "workload.h"

namespace mmscale {
namespace {

WorkloadParams quick() {
  WorkloadParams p;
  p.threads = 1;
  p.seconds = 0.2;
  p.size = 4 << 20;
  return p;
}

class WorkloadSmoke : public testing::TestWithParam<std::string> {};

TEST_P(WorkloadSmoke, PositiveRate) {
  const auto w = make_workload(GetParam());
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->name(), GetParam());
  const WorkloadResult r = w->run(quick());
  ASSERT_FALSE(r.metrics.empty());
  EXPECT_GT(r.metrics.front().value, 0) << r.to_text();
  ASSERT_EQ(r.per_thread.size(), 1u);
  EXPECT_GT(r.per_thread[0], 0);
  const Json j = r.to_json(w->name(), quick());
  EXPECT_EQ(j.find("workload")->as_string(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(All, WorkloadSmoke,
                         testing::Values("pft", "page_fault1", "page_fault2", "page_fault3",
                                         "mmap_loop", "writer", "samevma", "samevma_cow",
                                         "dontneed"));

TEST(RateSmoke, ReportsTheOperationCount) {
  for (const char* name : {"pft", "mmap_loop", "dontneed"}) {
    const auto w = make_workload(name);
    const WorkloadResult r = w->run(quick());
    EXPECT_GT(r.get("ops"), 0) << name;
    EXPECT_EQ(r.get("ops"), static_cast<double>(static_cast<std::uint64_t>(r.get("ops"))));
    EXPECT_EQ(r.to_json(name, quick()).find("ops")->as_number(), r.get("ops")) << name;
  }
}

TEST(WriterSmoke, ReportsAllFourPhases) {
  WorkloadParams p = quick();
  p.writers = 1;
  const WorkloadResult r = make_workload("writer")->run(p);
  const double alone = r.get("faults_per_s_alone");
  const double spin = r.get("faults_per_s_with_spinner");
  const double with_writer = r.get("faults_per_s_with_writer");
  EXPECT_GT(alone, 0);
  EXPECT_GT(spin, 0);
  EXPECT_GT(with_writer, 0);
  EXPECT_DOUBLE_EQ(r.get("fault_ratio"), with_writer / alone);
  EXPECT_DOUBLE_EQ(r.get("control_ratio"), spin / alone);
  EXPECT_DOUBLE_EQ(r.get("writer_vs_control"), with_writer / spin);
  EXPECT_GT(r.get("writer_mmaps_per_s"), 0);
  EXPECT_GT(r.get("writer_mmaps_per_s_alone"), 0);
  EXPECT_DOUBLE_EQ(r.get("writer_kept"),
                   r.get("writer_mmaps_per_s") / r.get("writer_mmaps_per_s_alone"));
  EXPECT_EQ(r.per_thread.size(), 1U);
}

TEST(SameVmaSmoke, ReportsAllThreePhases) {
  WorkloadParams p = quick();
  p.threads = 2;
  p.size = 1 << 20;
  const WorkloadResult r = make_workload("samevma")->run(p);
  const double alone = r.get("faults_per_s_alone");
  const double with_writer = r.get("faults_per_s_with_writer");
  EXPECT_GT(alone, 0);
  EXPECT_GT(with_writer, 0);
  EXPECT_DOUBLE_EQ(r.get("fault_ratio"), with_writer / alone);
  EXPECT_GT(r.get("writer_calls_per_s"), 0);
  EXPECT_GT(r.get("writer_calls_per_s_alone"), 0);
  EXPECT_DOUBLE_EQ(r.get("writer_kept"),
                   r.get("writer_calls_per_s") / r.get("writer_calls_per_s_alone"));
  EXPECT_EQ(r.per_thread.size(), 2U);
}

TEST(HoldLatSmoke, RunsOrSkips) {
  WorkloadParams p = quick();
  p.hold_ms = 100;
  p.size = 16 << 20;
  try {
    const WorkloadResult r = make_workload("holdlat")->run(p);
    EXPECT_GT(r.get("faults_total"), 0);
  } catch (const SkipError& e) {
    GTEST_SKIP() << e.what();
  }
}

TEST(HoldLatSmoke, MissingControlFileSkips) {
  WorkloadParams p = quick();
  p.ctl_path = "/nonexistent/mmscale/ctl";
  EXPECT_THROW(make_workload("holdlat")->run(p), SkipError);
}

TEST(EbizzySmoke, PositiveRate) {
  for (const std::vector<std::string_view>& args :
       {std::vector<std::string_view>{"-mTt", "1", "-S", "0.2"},
        std::vector<std::string_view>{"-t", "1", "-S", "0.2", "-s", "64K"},
        std::vector<std::string_view>{"-mpPRlz", "-t", "1", "-S", "0.2", "-s", "64K"}}) {
    const EbizzyResult r = run_ebizzy(parse_ebizzy_options(args));
    EXPECT_GT(r.records_per_s, 0);
    EXPECT_GT(r.real_s, 0.19);
  }
}

}  // namespace
}  // namespace mmscale

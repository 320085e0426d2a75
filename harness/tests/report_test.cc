#include "report.h"

#include <gtest/gtest.h>

#include <sstream>

namespace mmscale {
namespace {

std::string line(const char* kernel, int smp, const char* wl, const char* metric, int round,
                 double value) {
  return Json()
             .set("kernel", kernel)
             .set("smp", smp)
             .set("workload", wl)
             .set("metric", metric)
             .set("round", round)
             .set("value", value)
             .dump() +
         "\n";
}

std::string sample() {
  std::string s = "# comment lines and blank lines are skipped\n\n";
  for (int r = 0; r < 5; ++r) {
    s += line("spf", 2, "pft", "faults_per_s", r, 200 + 2 * r);  // listed first on purpose
    s += line("vanilla", 2, "pft", "faults_per_s", r, 100 + r);
    s += line("vanilla", 1, "pft", "faults_per_s", r, 50 + r);
    s += line("spf", 1, "pft", "faults_per_s", r, 50 + r);
  }
  return s;
}

TEST(Results, ParsesLinesAndSkipsComments) {
  std::istringstream in(sample());
  const std::vector<ResultRow> rows = read_results(in, "x.jsonl");
  ASSERT_EQ(rows.size(), 20u);
  EXPECT_EQ(rows[0].kernel, "spf");
  EXPECT_EQ(rows[0].smp, 2);
  EXPECT_EQ(rows[0].workload, "pft");
  EXPECT_EQ(rows[0].metric, "faults_per_s");
  EXPECT_EQ(rows[0].round, 0);
  EXPECT_DOUBLE_EQ(rows[0].value, 200);
}

TEST(Results, MalformedLineNamesFileAndLine) {
  std::istringstream in(line("a", 1, "w", "m", 0, 1) + "\n{\"kernel\": \"a\", \"smp\": 1,\n");
  try {
    read_results(in, "r.jsonl");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("r.jsonl:3: ", 0), 0u) << e.what();
  }
}

TEST(Results, MissingOrMistypedFieldIsAnError) {
  EXPECT_THROW(parse_result_line(R"({"kernel":"a","smp":1,"workload":"w","metric":"m","round":0})"),
               std::runtime_error);
  EXPECT_THROW(parse_result_line(
                   R"({"kernel":"a","smp":"1","workload":"w","metric":"m","round":0,"value":1})"),
               std::runtime_error);
  EXPECT_THROW(parse_result_line("[1]"), std::runtime_error);
}

TEST(Report, GroupsRatiosAndSignificance) {
  std::istringstream in(sample());
  const Report r = summarise(read_results(in, "x"), "vanilla");
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.groups[0].smp, 1);  // smp ascending
  const Group& g = r.groups[1];
  EXPECT_EQ(g.smp, 2);
  ASSERT_EQ(g.kernels.size(), 2u);
  EXPECT_EQ(g.kernels[0].kernel, "vanilla");  // baseline first
  EXPECT_TRUE(g.kernels[0].is_baseline);
  const KernelSummary& spf = g.kernels[1];
  EXPECT_EQ(spf.n, 5u);
  EXPECT_DOUBLE_EQ(spf.median, 204);
  EXPECT_DOUBLE_EQ(spf.min, 200);
  EXPECT_DOUBLE_EQ(spf.max, 208);
  EXPECT_DOUBLE_EQ(spf.ratio, 2.0);  // 204 / 102
  EXPECT_NEAR(spf.mwu.p_value, 2.0 / 252.0, 1e-12);
  EXPECT_EQ(spf.mwu.method, MwuMethod::kExact);
  EXPECT_DOUBLE_EQ(r.groups[0].kernels[1].ratio, 1.0);

  const std::string md = render_markdown(r, "no plot");
  EXPECT_NE(md.find("| pft | faults_per_s | 2 | spf | 204 | 2.000 | ["), std::string::npos) << md;
  EXPECT_NE(md.find("| 0.008 | yes |"), std::string::npos) << md;
  EXPECT_NE(md.find("| vanilla (baseline) | 5 | 102 | 100 | 104 | 1.000 |"), std::string::npos);
  EXPECT_NE(md.find("no plot"), std::string::npos);

  const Json j = render_json(r);
  const Json& k = j.find("groups")->as_array()[1].find("kernels")->as_array()[1];
  EXPECT_DOUBLE_EQ(k.find("ratio")->as_number(), 2.0);
  EXPECT_EQ(k.find("p_method")->as_string(), "exact");
  EXPECT_EQ(k.find("values")->as_array().size(), 5u);
}

TEST(Report, DeclaredDirectionReachesTheReport) {
  std::string s = sample();
  for (int r = 0; r < 3; ++r) {
    Json a = parse_json(line("vanilla", 2, "pft", "insns_per_op", r, 1000 + r));
    Json b = parse_json(line("spf", 2, "pft", "insns_per_op", r, 900 + r));
    s += a.set("better", "lower").dump() + "\n" + b.set("better", "lower").dump() + "\n";
  }
  std::istringstream in(s);
  const Report r = summarise(read_results(in, "x"), "vanilla");
  ASSERT_EQ(r.groups.size(), 3u);
  EXPECT_EQ(r.groups[0].better, "");  // faults_per_s: not declared
  const Group& g = r.groups[2];
  EXPECT_EQ(g.metric, "insns_per_op");
  EXPECT_EQ(g.better, "lower");
  EXPECT_DOUBLE_EQ(g.kernels[1].ratio, 901.0 / 1001.0);  // the ratio is never inverted

  const std::string md = render_markdown(r, "no plot");
  EXPECT_NE(md.find("| pft | insns_per_op | 2 | spf | 901 | 0.900 | ["), std::string::npos) << md;
  EXPECT_NE(md.find("| 0.100 | no | lower |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("| 0.008 | yes |  |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("### pft / insns_per_op, smp 2 (lower is better)\n"), std::string::npos);
  const Json j = render_json(r);
  EXPECT_EQ(j.find("groups")->as_array()[2].find("better")->as_string(), "lower");
  EXPECT_EQ(j.find("groups")->as_array()[0].find("better"), nullptr);
}

TEST(Report, ConflictingOrUnknownDirectionIsAnError) {
  const std::string base = line("a", 1, "w", "m", 0, 1);
  Json lower = parse_json(base), higher = parse_json(base), odd = parse_json(base);
  lower.set("better", "lower");
  higher.set("better", "higher");
  odd.set("better", "smaller");
  EXPECT_THROW(parse_result_line(odd.dump()), std::runtime_error);
  std::istringstream in(lower.dump() + "\n" + higher.dump() + "\n");
  EXPECT_THROW(summarise(read_results(in, "x"), ""), std::runtime_error);
}

TEST(Report, DefaultBaselineIsFirstKernel) {
  std::istringstream in(sample());
  EXPECT_EQ(summarise(read_results(in, "x"), "").baseline, "spf");
}

TEST(Report, PlotHasOneBlockPerKernel) {
  std::istringstream in(sample());
  const Report r = summarise(read_results(in, "x"), "vanilla");
  const PlotFiles p = render_plot(r, "pft", "faults_per_s");
  EXPECT_FALSE(p.empty);
  EXPECT_EQ(p.data,
            "# kernel vanilla\n# smp median min max\n1 52 50 54\n2 102 100 104\n\n\n"
            "# kernel spf\n# smp median min max\n1 52 50 54\n2 204 200 208\n\n\n");
  EXPECT_NE(p.script.find("index 1 using 1:2:3:4 with yerrorlines title 'spf'"), std::string::npos);
  EXPECT_TRUE(render_plot(r, "pft", "nosuch").empty);
}

}  // namespace
}  // namespace mmscale

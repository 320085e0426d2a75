#include "stats.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace mmscale {
namespace {

TEST(Stats, MedianOdd) {
  const std::vector<double> v{5, 1, 3};
  EXPECT_DOUBLE_EQ(Stats(v).median(), 3);
}

TEST(Stats, MedianEven) {
  const std::vector<double> v{4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(Stats(v).median(), 2.5);
}

TEST(Stats, MinMaxMean) {
  const std::vector<double> v{2, 8, 4, 6};
  const Stats s(v);
  EXPECT_DOUBLE_EQ(s.min(), 2);
  EXPECT_DOUBLE_EQ(s.max(), 8);
  EXPECT_DOUBLE_EQ(s.mean(), 5);
  EXPECT_NEAR(s.stddev(), 2.5819888974716, 1e-12);
}

TEST(Stats, PercentilesInterpolate) {
  std::vector<double> v;
  for (int i = 1; i <= 10; ++i) v.push_back(i);
  const Stats s(v);
  EXPECT_DOUBLE_EQ(s.percentile(0), 1);
  EXPECT_DOUBLE_EQ(s.percentile(100), 10);
  EXPECT_DOUBLE_EQ(s.percentile(50), 5.5);
  EXPECT_DOUBLE_EQ(s.percentile(90), 9.1);  // numpy.percentile(range(1, 11), 90)
  EXPECT_DOUBLE_EQ(s.percentile(25), 3.25);
  EXPECT_THROW(s.percentile(101), std::invalid_argument);
}

TEST(Stats, SingleValueAndEmpty) {
  const std::vector<double> one{7};
  EXPECT_DOUBLE_EQ(Stats(one).percentile(99.9), 7);
  EXPECT_DOUBLE_EQ(Stats(one).stddev(), 0);
  EXPECT_THROW(Stats().median(), std::logic_error);
}

TEST(MannWhitney, CompletelySeparatedIsExact) {
  const std::vector<double> x{1, 2, 3, 4, 5}, y{6, 7, 8, 9, 10};
  const MannWhitneyResult r = mann_whitney_u(x, y);
  EXPECT_EQ(r.method, MwuMethod::kExact);
  EXPECT_DOUBLE_EQ(r.u, 0);
  EXPECT_NEAR(r.p_value, 2.0 / 252.0, 1e-12);  // 2 / C(10, 5)
  EXPECT_NEAR(mann_whitney_u(y, x).p_value, 2.0 / 252.0, 1e-12);
  EXPECT_DOUBLE_EQ(mann_whitney_u(y, x).u, 25);
}

TEST(MannWhitney, KnownExactValue) {
  // Enumerating all C(10, 4) = 210 arrangements: U = 6, P(U <= 6) = 27/210,
  // two-sided p = 54/210.
  const std::vector<double> x{1, 3, 5, 7}, y{2, 4, 6, 8, 10, 12};
  const MannWhitneyResult r = mann_whitney_u(x, y);
  EXPECT_DOUBLE_EQ(r.u, 6);
  EXPECT_NEAR(r.p_value, 0.2571428571428571, 1e-12);
}

TEST(MannWhitney, TiesUseNormalApproximation) {
  // Mid-ranks give U = 5; tie-corrected variance 20.5556, continuity
  // correction: z = (12.5 - 5 - 0.5) / sqrt(20.5556), p = erfc(z / sqrt 2).
  const std::vector<double> x{1, 2, 2, 3, 4}, y{2, 3, 4, 5, 5};
  const MannWhitneyResult r = mann_whitney_u(x, y);
  EXPECT_EQ(r.method, MwuMethod::kNormal);
  EXPECT_DOUBLE_EQ(r.u, 5);
  EXPECT_NEAR(r.p_value, 0.1350990694573, 1e-9);
}

TEST(MannWhitney, IdenticalSamplesAreNotSignificant) {
  const std::vector<double> x{3, 3, 3}, y{3, 3, 3};
  EXPECT_DOUBLE_EQ(mann_whitney_u(x, y).p_value, 1.0);
  EXPECT_THROW(mann_whitney_u({}, y), std::invalid_argument);
}

TEST(Bootstrap, RatioIntervalContainsTheRatio) {
  const std::vector<double> x{100, 101, 99, 100, 102}, y{150, 151, 149, 152, 150};
  const Interval ci = bootstrap_median_ratio_ci(x, y);
  EXPECT_LE(ci.lo, 1.5);
  EXPECT_GE(ci.hi, 1.5);
  EXPECT_GT(ci.lo, 1.4);
  EXPECT_LT(ci.hi, 1.6);
  // Reproducible.
  const Interval again = bootstrap_median_ratio_ci(x, y);
  EXPECT_DOUBLE_EQ(ci.lo, again.lo);
  EXPECT_DOUBLE_EQ(ci.hi, again.hi);
}

}  // namespace
}  // namespace mmscale

// Descriptive statistics of one sample and significance tests between two.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace mmscale {

// One sample of measurements; keeps a sorted copy.  Empty samples are allowed,
// but every accessor except size() then throws std::logic_error.
class Stats {
 public:
  Stats() = default;
  explicit Stats(std::span<const double> values);

  std::size_t size() const { return sorted_.size(); }
  double min() const;
  double max() const;
  double mean() const;
  double stddev() const;  // sample standard deviation (n - 1); 0 for one value
  double median() const { return percentile(50.0); }
  // Percentile @p in [0, 100], linear interpolation between closest ranks
  // (numpy's default, "type 7").
  double percentile(double p) const;
  std::span<const double> sorted() const { return sorted_; }

 private:
  void require_nonempty() const;
  std::vector<double> sorted_;
};

enum class MwuMethod { kExact, kNormal };
std::string_view to_string(MwuMethod m);

struct MannWhitneyResult {
  double u = 0;        // U statistic of the first sample
  double p_value = 1;  // two-sided
  MwuMethod method = MwuMethod::kNormal;
};

// Two-sided Mann-Whitney U test.  Exact null distribution when there are no
// ties and both samples have at most 50 values, else the normal approximation
// with tie correction and continuity correction.  Throws std::invalid_argument
// if a sample is empty.
MannWhitneyResult mann_whitney_u(std::span<const double> x, std::span<const double> y);

struct Interval {
  double lo = 0;
  double hi = 0;
};

// Percentile bootstrap confidence interval of median(y) / median(x), with
// @resamples resamples and a fixed @seed (reproducible reports).
Interval bootstrap_median_ratio_ci(std::span<const double> x, std::span<const double> y,
                                   double confidence = 0.95, int resamples = 2000,
                                   std::uint64_t seed = 1);

}  // namespace mmscale

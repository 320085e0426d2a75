#include "stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

namespace mmscale {

Stats::Stats(std::span<const double> values) : sorted_(values.begin(), values.end()) {
  std::sort(sorted_.begin(), sorted_.end());
}

void Stats::require_nonempty() const {
  if (sorted_.empty()) throw std::logic_error("statistics of an empty sample");
}

double Stats::min() const {
  require_nonempty();
  return sorted_.front();
}

double Stats::max() const {
  require_nonempty();
  return sorted_.back();
}

double Stats::mean() const {
  require_nonempty();
  return std::accumulate(sorted_.begin(), sorted_.end(), 0.0) / static_cast<double>(sorted_.size());
}

double Stats::stddev() const {
  require_nonempty();
  if (sorted_.size() < 2) return 0.0;
  const double m = mean();
  double ss = 0;
  for (double v : sorted_) ss += (v - m) * (v - m);
  return std::sqrt(ss / static_cast<double>(sorted_.size() - 1));
}

double Stats::percentile(double p) const {
  require_nonempty();
  if (!(p >= 0.0 && p <= 100.0)) throw std::invalid_argument("percentile out of [0, 100]");
  const double pos = p / 100.0 * static_cast<double>(sorted_.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted_.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted_[lo] + (sorted_[hi] - sorted_[lo]) * frac;
}

std::string_view to_string(MwuMethod m) {
  return m == MwuMethod::kExact ? "exact" : "normal approximation";
}

namespace {

// Number of arrangements giving each U value for sample sizes m and n: the
// coefficients of the Gaussian binomial [m+n choose m]_q.
std::vector<double> u_distribution(std::size_t m, std::size_t n) {
  std::vector<double> c(m * n + 1, 0.0);
  c[0] = 1.0;
  for (std::size_t i = 1; i <= m; ++i) {
    // Multiply by (1 - q^(n+i)), then divide by (1 - q^i).
    for (std::size_t k = c.size(); k-- > n + i;) c[k] -= c[k - (n + i)];
    for (std::size_t k = i; k < c.size(); ++k) c[k] += c[k - i];
  }
  return c;
}

}  // namespace

MannWhitneyResult mann_whitney_u(std::span<const double> x, std::span<const double> y) {
  if (x.empty() || y.empty()) throw std::invalid_argument("Mann-Whitney U of an empty sample");
  const std::size_t n1 = x.size(), n2 = y.size(), n = n1 + n2;

  // Mid-ranks of the pooled sample; remember the tie groups.
  std::vector<std::pair<double, bool>> pooled;  // value, is_from_x
  pooled.reserve(n);
  for (double v : x) pooled.emplace_back(v, true);
  for (double v : y) pooled.emplace_back(v, false);
  std::sort(pooled.begin(), pooled.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  double rank_sum_x = 0, tie_term = 0;
  bool ties = false;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && pooled[j].first == pooled[i].first) ++j;
    const double t = static_cast<double>(j - i);
    const double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k)
      if (pooled[k].second) rank_sum_x += mid_rank;
    if (t > 1) {
      ties = true;
      tie_term += t * t * t - t;
    }
    i = j;
  }
  MannWhitneyResult r;
  const double dn1 = static_cast<double>(n1), dn2 = static_cast<double>(n2);
  r.u = rank_sum_x - dn1 * (dn1 + 1) / 2.0;

  if (!ties && n1 <= 50 && n2 <= 50) {
    const std::vector<double> c = u_distribution(n1, n2);
    const double total = std::accumulate(c.begin(), c.end(), 0.0);
    const auto u = static_cast<std::size_t>(std::llround(r.u));
    const double below = std::accumulate(c.begin(), c.begin() + static_cast<long>(u) + 1, 0.0);
    const double above = std::accumulate(c.begin() + static_cast<long>(u), c.end(), 0.0);
    r.p_value = std::min(1.0, 2.0 * std::min(below, above) / total);
    r.method = MwuMethod::kExact;
    return r;
  }

  const double dn = static_cast<double>(n);
  const double mu = dn1 * dn2 / 2.0;
  const double var = dn1 * dn2 / 12.0 * ((dn + 1) - tie_term / (dn * (dn - 1)));
  r.method = MwuMethod::kNormal;
  if (var <= 0) {
    r.p_value = 1.0;
    return r;
  }
  const double z = std::max(0.0, std::abs(r.u - mu) - 0.5) / std::sqrt(var);
  r.p_value = std::min(1.0, std::erfc(z / std::sqrt(2.0)));
  return r;
}

Interval bootstrap_median_ratio_ci(std::span<const double> x, std::span<const double> y,
                                   double confidence, int resamples, std::uint64_t seed) {
  if (x.empty() || y.empty()) throw std::invalid_argument("bootstrap of an empty sample");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick_x(0, x.size() - 1), pick_y(0, y.size() - 1);
  std::vector<double> bx(x.size()), by(y.size()), ratios;
  ratios.reserve(static_cast<std::size_t>(resamples));
  for (int i = 0; i < resamples; ++i) {
    for (double& v : bx) v = x[pick_x(rng)];
    for (double& v : by) v = y[pick_y(rng)];
    const double mx = Stats(bx).median();
    if (mx != 0) ratios.push_back(Stats(by).median() / mx);
  }
  if (ratios.empty()) return {NAN, NAN};
  const Stats s(ratios);
  const double tail = (1.0 - confidence) / 2.0 * 100.0;
  return {s.percentile(tail), s.percentile(100.0 - tail)};
}

}  // namespace mmscale

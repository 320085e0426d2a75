#include "report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <tuple>

namespace mmscale {

namespace {

const Json& field(const Json& obj, std::string_view key) {
  const Json* v = obj.find(key);
  if (v == nullptr) throw std::runtime_error("missing field \"" + std::string(key) + "\"");
  return *v;
}

const std::string& string_field(const Json& obj, std::string_view key) {
  const Json& v = field(obj, key);
  if (!v.is_string())
    throw std::runtime_error("field \"" + std::string(key) + "\" is not a string");
  return v.as_string();
}

double number_field(const Json& obj, std::string_view key) {
  const Json& v = field(obj, key);
  if (!v.is_number())
    throw std::runtime_error("field \"" + std::string(key) + "\" is not a number");
  return v.as_number();
}

int int_field(const Json& obj, std::string_view key) {
  const double d = number_field(obj, key);
  if (d != std::trunc(d) || d < 0 || d > 1e6)
    throw std::runtime_error("field \"" + std::string(key) + "\" is not a small whole number");
  return static_cast<int>(d);
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string format_p(const MannWhitneyResult& m) {
  return (m.p_value < 0.001 ? std::string("<0.001") : fmt("%.3f", m.p_value)) +
         (m.method == MwuMethod::kExact ? "" : " (approx.)");
}

}  // namespace

std::string format_value(double v) {
  if (!std::isfinite(v)) return "n/a";
  if (std::abs(v) >= 1000) return fmt("%.0f", v);
  return fmt("%.4g", v);
}

ResultRow parse_result_line(std::string_view line) {
  const Json j = parse_json(line);
  if (!j.is_object()) throw std::runtime_error("line is not a JSON object");
  ResultRow r;
  r.kernel = string_field(j, "kernel");
  r.smp = int_field(j, "smp");
  r.workload = string_field(j, "workload");
  r.metric = string_field(j, "metric");
  r.round = int_field(j, "round");
  r.value = number_field(j, "value");
  if (j.find("better") != nullptr) {
    r.better = string_field(j, "better");
    if (r.better != "higher" && r.better != "lower")
      throw std::runtime_error("field \"better\" is neither \"higher\" nor \"lower\"");
  }
  if (r.kernel.empty()) throw std::runtime_error("empty \"kernel\"");
  return r;
}

std::vector<ResultRow> read_results(std::istream& in, std::string_view source) {
  std::vector<ResultRow> rows;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    try {
      rows.push_back(parse_result_line(line));
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string(source) + ":" + std::to_string(n) + ": " + e.what());
    }
  }
  return rows;
}

Report summarise(const std::vector<ResultRow>& rows, std::string baseline) {
  Report report;
  if (baseline.empty() && !rows.empty()) baseline = rows.front().kernel;
  report.baseline = baseline;

  // First-appearance order of workloads/metrics and kernels; the direction
  // that the rows of each workload/metric declare.
  std::vector<std::pair<std::string, std::string>> wm_order;
  std::vector<std::string> kernel_order{baseline};
  std::map<std::pair<std::string, std::string>, std::string> better;
  for (const ResultRow& r : rows) {
    const auto wm = std::make_pair(r.workload, r.metric);
    if (std::find(wm_order.begin(), wm_order.end(), wm) == wm_order.end()) wm_order.push_back(wm);
    if (!r.better.empty()) {
      std::string& b = better[wm];
      if (!b.empty() && b != r.better)
        throw std::runtime_error(r.workload + " / " + r.metric +
                                 ": rows declare both \"higher\" and \"lower\" is better");
      b = r.better;
    }
    if (std::find(kernel_order.begin(), kernel_order.end(), r.kernel) == kernel_order.end())
      kernel_order.push_back(r.kernel);
  }
  auto rank = [](const auto& order, const auto& key) {
    return std::find(order.begin(), order.end(), key) - order.begin();
  };

  // (workload/metric rank, smp, kernel rank) -> (round, value)
  std::map<std::tuple<long, int, long>, std::vector<std::pair<int, double>>> cells;
  for (const ResultRow& r : rows)
    cells[{rank(wm_order, std::make_pair(r.workload, r.metric)), r.smp,
           rank(kernel_order, r.kernel)}]
        .emplace_back(r.round, r.value);

  for (const auto& [key, values] : cells) {
    const auto& [wm, smp, k] = key;
    if (report.groups.empty() || report.groups.back().workload != wm_order[wm].first ||
        report.groups.back().metric != wm_order[wm].second || report.groups.back().smp != smp)
      report.groups.push_back(
          {wm_order[wm].first, wm_order[wm].second, smp, better[wm_order[wm]], {}});
    auto sorted = values;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    KernelSummary s;
    s.kernel = kernel_order[static_cast<std::size_t>(k)];
    for (const auto& rv : sorted) s.values.push_back(rv.second);
    const Stats st(s.values);
    s.n = st.size();
    s.median = st.median();
    s.min = st.min();
    s.max = st.max();
    s.mean = st.mean();
    s.is_baseline = s.kernel == baseline;
    report.groups.back().kernels.push_back(std::move(s));
  }

  for (Group& g : report.groups) {
    const KernelSummary& base = g.kernels.front();
    if (!base.is_baseline) continue;
    for (KernelSummary& s : g.kernels) {
      if (s.is_baseline) continue;
      s.has_comparison = true;
      s.ratio = base.median != 0 ? s.median / base.median : NAN;
      s.ratio_ci = bootstrap_median_ratio_ci(base.values, s.values);
      s.mwu = mann_whitney_u(s.values, base.values);
    }
  }
  return report;
}

std::string render_markdown(const Report& r, std::string_view plot_note) {
  std::string md = "# mmscale A/B report\n\n";
  md += "Baseline kernel: `" + r.baseline + "`.\n\n";
  md +=
      "*ratio* is the kernel's median divided by the baseline's median for the same workload, "
      "metric and vCPU count; whether higher is better depends on the metric: *better* says "
      "so where the results declare it (for a metric where lower is better, a ratio below 1 is "
      "the improvement). *95% CI* is a "
      "percentile bootstrap interval of that ratio (2000 resamples, fixed seed). *p* is the "
      "two-sided Mann-Whitney U test of the kernel's values against the baseline's: exact null "
      "distribution when there are no ties and each side has at most 50 values, otherwise the "
      "normal approximation with tie and continuity correction, marked \"(approx.)\". With 5 "
      "rounds per side the smallest exact p is 0.008; with 3 rounds it is 0.1, so nothing can "
      "be significant at 0.05 with fewer than 4 rounds.\n\n";

  md += "## Headline\n\n";
  md +=
      "| workload | metric | smp | kernel | median | ratio | 95% CI | p | sig. (0.05) | better |\n";
  md += "|---|---|---:|---|---:|---:|---|---:|:---:|---|\n";
  bool any = false;
  for (const Group& g : r.groups)
    for (const KernelSummary& s : g.kernels) {
      if (!s.has_comparison) continue;
      any = true;
      md += "| " + g.workload + " | " + g.metric + " | " + std::to_string(g.smp) + " | " +
            s.kernel + " | " + format_value(s.median) + " | " + fmt("%.3f", s.ratio) + " | [" +
            fmt("%.3f", s.ratio_ci.lo) + ", " + fmt("%.3f", s.ratio_ci.hi) + "] | " +
            format_p(s.mwu) + " | " + (s.mwu.p_value < 0.05 ? "yes" : "no") + " | " + g.better +
            " |\n";
    }
  if (!any) md += "| (no kernel to compare with the baseline) | | | | | | | | | |\n";

  md += "\n## Details\n";
  for (const Group& g : r.groups) {
    md += "\n### " + g.workload + " / " + g.metric + ", smp " + std::to_string(g.smp) +
          (g.better.empty() ? "" : " (" + g.better + " is better)") + "\n\n";
    md += "| kernel | n | median | min | max | ratio | 95% CI | p |\n";
    md += "|---|---:|---:|---:|---:|---:|---|---:|\n";
    for (const KernelSummary& s : g.kernels) {
      md += "| " + s.kernel + (s.is_baseline ? " (baseline)" : "") + " | " + std::to_string(s.n) +
            " | " + format_value(s.median) + " | " + format_value(s.min) + " | " +
            format_value(s.max) + " | ";
      if (s.is_baseline)
        md += "1.000 | | |\n";
      else if (s.has_comparison)
        md += fmt("%.3f", s.ratio) + " | [" + fmt("%.3f", s.ratio_ci.lo) + ", " +
              fmt("%.3f", s.ratio_ci.hi) + "] | " + format_p(s.mwu) + " |\n";
      else
        md += "n/a (no baseline data) | | |\n";
    }
  }
  md += "\n## Plot\n\n" + std::string(plot_note) + "\n";
  return md;
}

Json render_json(const Report& r) {
  Json groups = Json(Json::Array{});
  for (const Group& g : r.groups) {
    Json kernels = Json(Json::Array{});
    for (const KernelSummary& s : g.kernels) {
      Json values = Json(Json::Array{});
      for (double v : s.values) values.push(v);
      Json k;
      k.set("kernel", s.kernel).set("baseline", s.is_baseline).set("n", s.n);
      k.set("median", s.median).set("min", s.min).set("max", s.max).set("mean", s.mean);
      if (s.has_comparison) {
        k.set("ratio", s.ratio);
        k.set("ratio_ci95", Json(Json::Array{s.ratio_ci.lo, s.ratio_ci.hi}));
        k.set("mwu_u", s.mwu.u).set("p_value", s.mwu.p_value);
        k.set("p_method", to_string(s.mwu.method));
      }
      k.set("values", std::move(values));
      kernels.push(std::move(k));
    }
    Json jg;
    jg.set("workload", g.workload).set("metric", g.metric).set("smp", g.smp);
    if (!g.better.empty()) jg.set("better", g.better);
    jg.set("kernels", std::move(kernels));
    groups.push(std::move(jg));
  }
  Json j;
  j.set("baseline", r.baseline).set("significance", "two-sided Mann-Whitney U vs baseline");
  j.set("ratio_ci", "percentile bootstrap of median ratio, 95%, 2000 resamples");
  j.set("groups", std::move(groups));
  return j;
}

namespace {

// A gnuplot single-quoted string: '' stands for '.
std::string gp_quote(std::string_view s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

}  // namespace

PlotFiles render_plot(const Report& r, std::string_view workload, std::string_view metric) {
  // kernel -> rows of "smp median min max", in kernel order of first appearance.
  std::vector<std::pair<std::string, std::string>> blocks;
  std::vector<int> smps;
  for (const Group& g : r.groups) {
    if (g.workload != workload || g.metric != metric) continue;
    if (std::find(smps.begin(), smps.end(), g.smp) == smps.end()) smps.push_back(g.smp);
    for (const KernelSummary& s : g.kernels) {
      auto it = std::find_if(blocks.begin(), blocks.end(),
                             [&](const auto& b) { return b.first == s.kernel; });
      if (it == blocks.end()) {
        blocks.emplace_back(s.kernel, "");
        it = blocks.end() - 1;
      }
      it->second += std::to_string(g.smp) + " " + format_number(s.median) + " " +
                    format_number(s.min) + " " + format_number(s.max) + "\n";
    }
  }
  std::sort(smps.begin(), smps.end());
  PlotFiles p;
  p.empty = blocks.empty();
  p.script = "set terminal png noenhanced size 900,600\nset output 'scaling.png'\n";
  p.script +=
      "set title " +
      gp_quote(std::string(workload) + " / " + std::string(metric) + " (median, bars: min..max)") +
      "\n";
  p.script += "set xlabel 'vCPUs (smp)'\nset ylabel " + gp_quote(metric) + "\n";
  p.script += "set key left top\nset grid\nset yrange [0:*]\n";
  if (smps.size() > 1 && smps.front() > 0) {
    p.script += "set logscale x 2\nset xrange [" + format_number(smps.front() / 1.25) + ":" +
                format_number(smps.back() * 1.25) + "]\nset xtics (";
    for (std::size_t i = 0; i < smps.size(); ++i)
      p.script += (i == 0 ? "" : ", ") + std::to_string(smps[i]);
    p.script += ")\n";
  } else {
    p.script += "set offsets 0.5, 0.5, 0, 0\n";
  }
  p.script += "plot";
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    p.data += "# kernel " + blocks[i].first + "\n# smp median min max\n" + blocks[i].second;
    p.data += "\n\n";
    p.script += std::string(i == 0 ? " " : ", \\\n     ") + "'scaling.dat' index " +
                std::to_string(i) + " using 1:2:3:4 with yerrorlines title " +
                gp_quote(blocks[i].first);
  }
  p.script += "\n";
  return p;
}

}  // namespace mmscale

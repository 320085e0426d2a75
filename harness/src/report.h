// abstat: A/B statistics over a JSON-lines results file (format in README.md).
#pragma once

#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "json.h"
#include "stats.h"

namespace mmscale {

// One line of a results file.
struct ResultRow {
  std::string kernel;
  int smp = 0;
  std::string workload;
  std::string metric;
  int round = 0;
  double value = 0;
  std::string better;  // optional: "higher" or "lower" is better; empty: not declared
};

// Parses one line; throws std::runtime_error (JSON syntax, missing or
// mistyped field).  The caller adds the line number.
ResultRow parse_result_line(std::string_view line);
// Reads a whole file; blank lines and lines starting with '#' are skipped.
// Errors read "<source>:<line>: <what>".
std::vector<ResultRow> read_results(std::istream& in, std::string_view source);

struct KernelSummary {
  std::string kernel;
  std::vector<double> values;  // in round order
  std::size_t n = 0;
  double median = 0, min = 0, max = 0, mean = 0;
  bool is_baseline = false;
  bool has_comparison = false;  // baseline present in this group and this is not it
  double ratio = 0;             // median / baseline median
  Interval ratio_ci;            // bootstrap 95% CI of that ratio
  MannWhitneyResult mwu;        // vs the baseline's values
};

struct Group {
  std::string workload;
  std::string metric;
  int smp = 0;
  std::string better;                  // "higher", "lower" or "" (not declared by any row)
  std::vector<KernelSummary> kernels;  // baseline first, then first appearance
};

struct Report {
  std::string baseline;
  std::vector<Group> groups;  // by workload, metric (first appearance), smp ascending
};

// @baseline empty: the first kernel in @rows.  Throws std::runtime_error
// when rows of one workload and metric declare opposite directions.
Report summarise(const std::vector<ResultRow>& rows, std::string baseline);

std::string render_markdown(const Report& r, std::string_view plot_note);
Json render_json(const Report& r);

struct PlotFiles {
  std::string data;    // gnuplot data: one index block per kernel
  std::string script;  // reads "scaling.dat", writes "scaling.png"
  bool empty = true;   // no group matched the chosen metric
};
PlotFiles render_plot(const Report& r, std::string_view workload, std::string_view metric);

// Value formatting used in the tables.
std::string format_value(double v);

}  // namespace mmscale

// abstat: A/B statistics and report over JSON-lines results; see README.md.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>

#include "cli.h"
#include "error.h"
#include "report.h"

namespace {

using namespace mmscale;

struct Options {
  std::string baseline;
  std::string out = ".";
  std::string plot;  // WORKLOAD:METRIC
  bool no_gnuplot = false;
  bool help = false;
};

ArgParser parser(Options& o) {
  ArgParser p;
  p.option('b', "baseline", "NAME", "baseline kernel (default: first kernel in the input)",
           [&o](std::string_view v) { o.baseline = v; });
  p.option('o', "out", "DIR", "output directory, created if missing (.)",
           [&o](std::string_view v) { o.out = v; });
  p.option('p', "plot", "WORKLOAD:METRIC", "metric of the scaling plot (first in the input)",
           [&o](std::string_view v) {
             if (v.find(':') == std::string_view::npos)
               throw UsageError("--plot needs WORKLOAD:METRIC");
             o.plot = v;
           });
  p.flag(0, "no-gnuplot", "write the plot data and script but do not run gnuplot",
         [&o] { o.no_gnuplot = true; });
  p.flag('h', "help", "print this help", [&o] { o.help = true; });
  return p;
}

std::string usage(const char* prog) {
  Options o;
  return "Usage: " + std::string(prog) + " [options] RESULTS.jsonl...\n" + parser(o).help() +
         "Writes report.md, results.json, scaling.dat, scaling.gp (and scaling.png) to DIR.\n";
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) throw SysError("write " + path, errno);
}

bool on_path(const std::string& tool) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "/usr/bin:/bin";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const std::string dir(rest.substr(0, colon));
    if (!dir.empty() && ::access((dir + "/" + tool).c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return false;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

int main(int argc, char** argv) {
  const char* prog = argc > 0 ? argv[0] : "abstat";
  try {
    Options o;
    const auto args = args_of(argc, argv);
    const std::vector<std::string> inputs = parser(o).parse(args);
    if (o.help) {
      std::fputs(usage(prog).c_str(), stdout);
      return 0;
    }
    if (inputs.empty()) throw UsageError("no results file given");

    std::vector<ResultRow> rows;
    for (const std::string& in : inputs) {
      std::ifstream f(in);
      if (!f) throw SysError("open " + in, errno);
      std::vector<ResultRow> more = read_results(f, in);
      rows.insert(rows.end(), more.begin(), more.end());
    }
    if (rows.empty()) throw std::runtime_error("no results in the input");
    const Report report = summarise(rows, o.baseline);
    bool baseline_seen = false;
    for (const ResultRow& r : rows) baseline_seen |= r.kernel == report.baseline;
    if (!baseline_seen) throw UsageError("baseline kernel '" + report.baseline + "' not in input");

    if (::mkdir(o.out.c_str(), 0755) != 0 && errno != EEXIST) throw_errno("mkdir " + o.out);
    std::string workload = report.groups.front().workload;
    std::string metric = report.groups.front().metric;
    if (!o.plot.empty()) {
      workload = o.plot.substr(0, o.plot.find(':'));
      metric = o.plot.substr(o.plot.find(':') + 1);
    }
    const PlotFiles plot = render_plot(report, workload, metric);
    std::string note;
    if (plot.empty) {
      note = "No plot: no results for " + workload + " / " + metric + ".";
    } else {
      write_file(o.out + "/scaling.dat", plot.data);
      write_file(o.out + "/scaling.gp", plot.script);
      const std::string what = workload + " / " + metric;
      if (o.no_gnuplot) {
        note = "Plot of " + what + " not drawn (--no-gnuplot): see scaling.dat and scaling.gp.";
      } else if (!on_path("gnuplot")) {
        note = "Plot of " + what +
               " skipped: gnuplot is not on PATH. Data and script: scaling.dat, scaling.gp "
               "(run `gnuplot scaling.gp` in this directory).";
      } else if (std::system(("cd " + shell_quote(o.out) + " && gnuplot scaling.gp").c_str()) !=
                 0) {
        note = "Plot of " + what + " failed: gnuplot scaling.gp exited with an error.";
      } else {
        note = "![" + what + " scaling](scaling.png)\n\nScaling of " + what +
               ": median per kernel and vCPU count, bars min..max (scaling.dat, scaling.gp).";
      }
    }
    write_file(o.out + "/report.md", render_markdown(report, note));
    write_file(o.out + "/results.json", render_json(report).dump() + "\n");
    std::printf("%s/report.md: %zu groups, baseline %s\n", o.out.c_str(), report.groups.size(),
                report.baseline.c_str());
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n%s", prog, e.what(), usage(prog).c_str());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", prog, e.what());
    return kExitFailure;
  }
}

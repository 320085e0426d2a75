// faultbench <workload> [options]: see src/workload.h and README.md.
#include <cstdio>
#include <exception>
#include <string>

#include "cli.h"
#include "error.h"
#include "workload.h"

namespace {

using namespace mmscale;

struct Options {
  WorkloadParams params;
  bool json = false;
  bool help = false;
};

ArgParser parser(Options& o) {
  ArgParser p;
  WorkloadParams& w = o.params;
  p.option('t', "threads", "N", "faulting threads (1; lockbench: online CPUs, 2..64)",
           [&w](std::string_view v) {
             const std::uint64_t n = parse_uint(v, "-t");
             if (n == 0 || n > 4096) throw UsageError("-t must be in 1..4096");
             w.threads = static_cast<unsigned>(n);
             w.threads_given = true;
           });
  p.option('S', "seconds", "SEC",
           "run time, fractions allowed (5; writer: per phase; lockbench: per cell, 0.3)",
           [&w](std::string_view v) {
             w.seconds = parse_double(v, "-S");
             if (w.seconds <= 0) throw UsageError("-S must be positive");
             w.seconds_given = true;
           });
  p.option('s', "size", "BYTES", "region per thread, K/M/G suffixes (workload default)",
           [&w](std::string_view v) { w.size = parse_size(v, "-s"); });
  p.option('W', "writers", "N", "writer: mmap/munmap threads (1)", [&w](std::string_view v) {
    const std::uint64_t n = parse_uint(v, "-W");
    if (n == 0 || n > 4096) throw UsageError("-W must be in 1..4096");
    w.writers = static_cast<unsigned>(n);
  });
  p.option('H', "hold-ms", "MS", "holdlat: mmap_lock hold time (1500)", [&w](std::string_view v) {
    const std::uint64_t n = parse_uint(v, "-H");
    if (n == 0 || n > 10000) throw UsageError("-H must be in 1..10000");
    w.hold_ms = static_cast<unsigned>(n);
  });
  p.option('d', "dir", "DIR", "page_fault2/3: directory for the files (/tmp)",
           [&w](std::string_view v) { w.dir = v; });
  p.option(0, "ctl", "PATH",
           "holdlat, lockbench: module control file (/sys/kernel/debug/mmscale/ctl)",
           [&w](std::string_view v) { w.ctl_path = v; });
  p.option(0, "rounds", "N", "lockbench: rounds of all cells, medians over them (5, 1..100)",
           [&w](std::string_view v) { w.rounds = parse_uint(v, "--rounds"); });
  p.option(0, "hold-ns", "NS", "lockbench: busy time inside each contended hold (200, 0..100000)",
           [&w](std::string_view v) { w.hold_ns = parse_uint(v, "--hold-ns"); });
  p.flag(0, "json", "print one JSON object", [&o] { o.json = true; });
  p.flag('h', "help", "print this help", [&o] { o.help = true; });
  return p;
}

std::string usage(const char* prog) {
  Options o;
  std::string u = "Usage: " + std::string(prog) + " <workload> [options]\n\nWorkloads:\n";
  for (std::string_view name : workload_names()) {
    std::string line = "  " + std::string(name);
    line.resize(16, ' ');
    u += line + std::string(make_workload(name)->description()) + "\n";
  }
  return u + "\nOptions:\n" + parser(o).help() +
         "\nExit status: 0 ok, 1 error, 2 usage, 4 skipped (holdlat, lockbench without the "
         "module).\n";
}

}  // namespace

int main(int argc, char** argv) {
  const char* prog = argc > 0 ? argv[0] : "faultbench";
  try {
    Options o;
    const auto args = args_of(argc, argv);
    const std::vector<std::string> rest = parser(o).parse(args);
    if (o.help) {
      std::fputs(usage(prog).c_str(), stdout);
      return 0;
    }
    if (rest.size() != 1) throw UsageError("expected exactly one workload");
    const std::unique_ptr<Workload> w = make_workload(rest[0]);
    if (!w) throw UsageError("unknown workload '" + rest[0] + "'");
    const WorkloadResult r = w->run(o.params);
    const std::string out = o.json ? r.to_json(w->name(), o.params).dump() + "\n" : r.to_text();
    std::fputs(out.c_str(), stdout);
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n%s", prog, e.what(), usage(prog).c_str());
    return kExitUsage;
  } catch (const SkipError& e) {
    std::fprintf(stderr, "%s: SKIP: %s\n", prog, e.what());
    return kExitSkip;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", prog, e.what());
    return kExitFailure;
  }
}

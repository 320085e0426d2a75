// The Workload interface that every faultbench benchmark implements.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "json.h"

namespace mmscale {

struct WorkloadParams {
  unsigned threads = 1;      // -t: faulting threads
  double seconds = 5;        // -S: run time (per phase for "writer")
  std::size_t size = 0;      // -s: bytes per thread region; 0 = workload default
  unsigned writers = 1;      // -W: mmap/munmap threads ("writer")
  unsigned hold_ms = 1500;   // -H: how long the module holds mmap_lock ("holdlat")
  std::string dir = "/tmp";  // -d: where page_fault2/3 create their files
  std::string ctl_path;      // --ctl: test module control file ("holdlat", "lockbench")

  // lockbench (checked by the workload)
  std::uint64_t rounds = 5;     // --rounds
  std::uint64_t hold_ns = 200;  // --hold-ns: busy time inside each contended hold
  bool threads_given = false;   // -t was given (else: the online CPUs)
  bool seconds_given = false;   // -S was given (else: 0.3 s per cell)
};

struct Metric {
  std::string name;  // snake_case, the JSON key
  double value = 0;
  std::string unit;  // for the text output only
};

struct WorkloadResult {
  std::vector<Metric> metrics;
  std::string per_thread_metric;  // name of the per_thread values, if any
  std::vector<double> per_thread;
  std::vector<std::string> notes;  // text output only: "# note" lines before the metrics

  double get(std::string_view name) const;  // throws std::out_of_range
  bool has(std::string_view name) const;
  // {"tool":"faultbench","workload":...,"threads":...,"seconds":...,metrics...,"per_thread":{...}}
  // A metric named "threads" or "seconds" (a workload that resolves its own
  // defaults: lockbench) gives the header its value and is not repeated.
  Json to_json(std::string_view workload, const WorkloadParams& p) const;
  std::string to_text() const;
};

class Workload {
 public:
  virtual ~Workload() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view description() const = 0;
  // Throws SysError on failure, SkipError if it cannot run on this system.
  virtual WorkloadResult run(const WorkloadParams& p) = 0;
};

// All workload names, in the order of the usage text.
std::vector<std::string_view> workload_names();
// nullptr for an unknown name.
std::unique_ptr<Workload> make_workload(std::string_view name);

}  // namespace mmscale

// holdlat: fault latency while the test module write-holds mmap_lock.
//
// A faulter thread touches fresh pages of its own pre-mapped anonymous VMA
// and records CLOCK_MONOTONIC start/end of every touch.  About 100 ms after
// it starts, the main thread asks the module (MMSCALE_IOC_HOLD) to hold this
// process's mmap_lock for write; the ioctl returns after the release with
// the acquire/release times, and the faulter goes on for ~100 ms more.
// Without speculative faults every fault that starts in the window waits
// for the release; with them, faults keep completing inside the window.
//
// Nothing the faulter does during the hold may need mmap_lock except the
// faults being measured: the sample buffer is allocated and touched up front,
// and the VMA is only recycled (MADV_DONTNEED) when it is used up; a recycle
// is counted and not timed as a fault.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <latch>
#include <thread>

#include "error.h"
#include "holdlat.h"
#include "mapping.h"
#include "mmscale_test.h"
#include "runner.h"
#include "stats.h"
#include "workload.h"

namespace mmscale {
namespace {

constexpr std::size_t kMaxSamples = 2 << 20;  // 32 MiB of samples, touched up front
constexpr auto kLead = std::chrono::milliseconds(100);

class HoldLat : public Workload {
 public:
  std::string_view name() const override { return "holdlat"; }
  std::string_view description() const override {
    return "fault latency while the test module write-holds mmap_lock for -H ms (needs module)";
  }

  WorkloadResult run(const WorkloadParams& p) override {
    if (p.hold_ms < 1 || p.hold_ms > 10000) throw UsageError("-H must be in 1..10000");
    const FileDescriptor ctl =
        open_module_ctl(p.ctl_path, MMSCALE_FEAT_HOLD_MMAP_LOCK, "cannot hold mmap_lock");
    return run_hold_latency(p, [&ctl](unsigned hold_ms) {
      mmscale_hold hold{};
      hold.mode = MMSCALE_HOLD_WRITE;
      hold.hold_ms = hold_ms;
      if (::ioctl(ctl.get(), MMSCALE_IOC_HOLD, &hold) != 0) {
        if (errno == EOPNOTSUPP) throw SkipError("MMSCALE_IOC_HOLD: operation not supported");
        throw_errno("ioctl MMSCALE_IOC_HOLD");
      }
      return std::make_pair(static_cast<std::uint64_t>(hold.acquire_ns),
                            static_cast<std::uint64_t>(hold.release_ns));
    });
  }
};

}  // namespace

FileDescriptor open_module_ctl(const std::string& ctl_path, std::uint64_t required,
                               const std::string& what) {
  const std::string path = ctl_path.empty() ? MMSCALE_DEBUGFS_CTL : ctl_path;
  FileDescriptor fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR)
      throw SkipError(path + " is missing: load the mmscale test module (and mount debugfs)");
    throw_errno("open " + path);
  }
  mmscale_features f{};
  if (::ioctl(fd.get(), MMSCALE_IOC_FEATURES, &f) != 0) {
    if (errno == EOPNOTSUPP || errno == ENOTTY) throw SkipError("MMSCALE_IOC_FEATURES unsupported");
    throw_errno("ioctl MMSCALE_IOC_FEATURES");
  }
  if (f.version != MMSCALE_ABI_VERSION)
    throw SkipError("mmscale module ABI version " + std::to_string(f.version) + ", expected " +
                    std::to_string(MMSCALE_ABI_VERSION));
  if ((f.features & required) != required) throw SkipError("mmscale module " + what);
  return fd;
}

WorkloadResult analyse_hold_latency(std::span<const FaultSample> s, std::uint64_t acq,
                                    std::uint64_t rel, std::size_t recycles, bool truncated) {
  rel = std::max(rel, acq);
  std::vector<double> all, started_inside;
  std::size_t completed_inside = 0;
  all.reserve(s.size());
  for (const FaultSample& x : s) {
    const auto lat = static_cast<double>(x.end_ns - x.start_ns);
    all.push_back(lat);
    if (x.end_ns >= acq && x.end_ns <= rel) ++completed_inside;
    if (x.start_ns >= acq && x.start_ns <= rel) started_inside.push_back(lat);
  }
  const double window_s = static_cast<double>(rel - acq) / 1e9;
  double outside_s = 0;
  if (!s.empty())
    outside_s = static_cast<double>(s.back().end_ns - s.front().start_ns) / 1e9 - window_s;
  auto rate = [](std::size_t n, double secs) {
    return secs > 0 ? static_cast<double>(n) / secs : 0.0;
  };
  // Every metric is always present (0 when there is nothing to measure), so
  // that result files have the same keys on every kernel.
  const Stats st_all(all), st_in(started_inside);
  auto pct = [](const Stats& st, double p) { return st.size() != 0 ? st.percentile(p) : 0.0; };

  WorkloadResult r;
  r.metrics = {
      {"hold_ms", window_s * 1e3, "ms"},
      {"faults_total", static_cast<double>(s.size()), "faults"},
      {"faults_in_hold", static_cast<double>(completed_inside), "faults"},
      {"faults_per_s_in_hold", rate(completed_inside, window_s), "faults/s"},
      {"faults_per_s_outside_hold", rate(s.size() - completed_inside, outside_s), "faults/s"},
      {"latency_median_ns", pct(st_all, 50), "ns"},
      {"latency_p99_9_ns", pct(st_all, 99.9), "ns"},
      {"latency_max_ns", pct(st_all, 100), "ns"},
      {"faults_started_in_hold", static_cast<double>(started_inside.size()), "faults"},
      {"started_in_hold_latency_median_ns", pct(st_in, 50), "ns"},
      {"started_in_hold_latency_max_ns", pct(st_in, 100), "ns"},
      {"region_recycles", static_cast<double>(recycles), ""},
      {"samples_truncated", truncated ? 1.0 : 0.0, ""},
  };
  return r;
}

WorkloadResult run_hold_latency(const WorkloadParams& p, const LockHolder& hold) {
  const std::size_t size = page_align(p.size != 0 ? p.size : std::size_t{1} << 30);
  const Mapping region = Mapping::anonymous(size);
  region.advise(MADV_NOHUGEPAGE);
  std::vector<FaultSample> samples(kMaxSamples);  // value-initialised: touched now

  std::latch ready(1);  // the faulter is warmed up
  std::size_t count = 0, recycles = 0;
  bool truncated = false;
  std::exception_ptr error;
  // The jthread's destructor requests stop and joins, also on an exception.
  std::jthread faulter([&](const std::stop_token& stop) {
    bool signalled = false;
    try {
      monotonic_ns();  // warm up the vDSO
      ready.count_down();
      signalled = true;
      std::size_t off = 0;
      while (!stop.stop_requested()) {
        if (count == samples.size()) {
          truncated = true;
          break;
        }
        if (off == size) {
          region.advise(MADV_DONTNEED);
          ++recycles;
          off = 0;
        }
        const std::uint64_t t0 = monotonic_ns();
        touch_byte(region.data() + off);
        samples[count++] = {t0, monotonic_ns()};
        off += kPageSize;
      }
    } catch (...) {
      error = std::current_exception();  // read by the main thread after join()
      if (!signalled) ready.count_down();
    }
  });

  ready.wait();
  std::this_thread::sleep_for(kLead);  // lead time of the protocol
  const auto [acquire_ns, release_ns] = hold(p.hold_ms);
  std::this_thread::sleep_for(kLead);  // tail time of the protocol
  faulter.request_stop();
  faulter.join();
  if (error) std::rethrow_exception(error);
  return analyse_hold_latency(std::span(samples).first(count), acquire_ns, release_ns, recycles,
                              truncated);
}

std::unique_ptr<Workload> make_holdlat() { return std::make_unique<HoldLat>(); }

}  // namespace mmscale

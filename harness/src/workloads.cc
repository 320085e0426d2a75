// pft, page_fault1/2/3, mmap_loop, writer, samevma(_cow), dontneed and dontneed_hold.
// holdlat lives in holdlat.cc, lockbench in lockbench.cc.
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cstdio>
#include <stdexcept>
#include <thread>

#include "error.h"
#include "holdlat.h"
#include "mapping.h"
#include "mmscale_test.h"
#include "runner.h"
#include "workload.h"

namespace mmscale {

std::unique_ptr<Workload> make_holdlat();
std::unique_ptr<Workload> make_lockbench();

double WorkloadResult::get(std::string_view name) const {
  for (const Metric& m : metrics)
    if (m.name == name) return m.value;
  throw std::out_of_range("no metric " + std::string(name));
}

bool WorkloadResult::has(std::string_view name) const {
  for (const Metric& m : metrics)
    if (m.name == name) return true;
  return false;
}

Json WorkloadResult::to_json(std::string_view workload, const WorkloadParams& p) const {
  Json j;
  // Threads that actually ran (mmap_loop is single-threaded whatever -t says).
  const std::size_t threads = per_thread.empty() ? p.threads : per_thread.size();
  j.set("tool", "faultbench").set("workload", workload);
  j.set("threads", has("threads") ? Json(get("threads")) : Json(threads));
  j.set("seconds", has("seconds") ? get("seconds") : p.seconds);
  for (const Metric& m : metrics)
    if (m.name != "threads" && m.name != "seconds") j.set(m.name, m.value);
  if (!per_thread_metric.empty()) {
    Json values = Json(Json::Array{});
    for (double v : per_thread) values.push(v);
    j.set("per_thread", Json().set(per_thread_metric, std::move(values)));
  }
  return j;
}

std::string WorkloadResult::to_text() const {
  std::string out;
  for (const std::string& note : notes) out += "# " + note + "\n";
  char buf[256];
  for (const Metric& m : metrics) {
    // Counts print as integers, rates and times with two decimals.
    const bool whole = m.value == static_cast<double>(static_cast<long long>(m.value));
    std::snprintf(buf, sizeof buf, whole ? "%-36s %13.0f    %s" : "%-36s %16.2f %s", m.name.c_str(),
                  m.value, m.unit.c_str());
    std::string line = buf;
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  for (std::size_t i = 0; i < per_thread.size(); ++i) {
    std::snprintf(buf, sizeof buf, "  thread %-3zu %-23s %16.2f\n", i, per_thread_metric.c_str(),
                  per_thread[i]);
    out += buf;
  }
  return out;
}

namespace {

constexpr std::size_t kMiB = 1 << 20;

std::size_t region_size(const WorkloadParams& p, std::size_t fallback) {
  const std::size_t s = page_align(p.size != 0 ? p.size : fallback);
  if (s == 0) throw UsageError("region size must be at least one page");
  return s;
}

std::chrono::duration<double> duration_of(const WorkloadParams& p) {
  return std::chrono::duration<double>(p.seconds);
}

// pft body: fault in one page at a time of a private anonymous region with
// THP off; map a fresh region when this one is used up.
ThreadBody pft_body(std::size_t size) {
  return [size](const std::atomic<bool>& stop) {
    std::uint64_t faults = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      Mapping m = Mapping::anonymous(size);
      m.advise(MADV_NOHUGEPAGE);
      for (std::size_t off = 0; off < size; off += kPageSize) {
        if (stop.load(std::memory_order_relaxed)) break;
        touch_byte(m.data() + off);
        ++faults;
      }
    }
    return faults;
  };
}

WorkloadResult rate_result(const TimedRun& run, const std::string& metric, const char* unit) {
  WorkloadResult r;
  r.metrics.push_back({metric, total_rate(run.threads), unit});
  // The count the rate is made of, for costs per operation (instructions).
  std::uint64_t ops = 0;
  for (const ThreadResult& t : run.threads) ops += t.ops;
  const std::string_view rate_unit(unit);
  r.metrics.push_back(
      {"ops", static_cast<double>(ops), std::string(rate_unit.substr(0, rate_unit.find('/')))});
  r.metrics.push_back({"user_s", run.cpu.user_s, "s"});
  r.metrics.push_back({"sys_s", run.cpu.sys_s, "s"});
  r.per_thread_metric = metric;
  for (const ThreadResult& t : run.threads) r.per_thread.push_back(t.rate());
  return r;
}

class Pft : public Workload {
 public:
  std::string_view name() const override { return "pft"; }
  std::string_view description() const override {
    return "anonymous faults, one byte per 4 KiB page, THP off (-s region per thread, 64M)";
  }
  WorkloadResult run(const WorkloadParams& p) override {
    const std::vector<ThreadBody> bodies(p.threads, pft_body(region_size(p, 64 * kMiB)));
    return rate_result(run_timed(bodies, duration_of(p)), "faults_per_s", "faults/s");
  }
};

// will-it-scale page_fault1/2/3: map, write one byte per page, unmap.
class PageFault : public Workload {
 public:
  explicit PageFault(int kind) : kind_(kind) {}
  std::string_view name() const override {
    return kind_ == 1 ? "page_fault1" : kind_ == 2 ? "page_fault2" : "page_fault3";
  }
  std::string_view description() const override {
    return kind_ == 1   ? "will-it-scale page_fault1: private anonymous (-s, 128M)"
           : kind_ == 2 ? "will-it-scale page_fault2: private file mapping in -d (128M)"
                        : "will-it-scale page_fault3: shared file mapping in -d (128M)";
  }
  WorkloadResult run(const WorkloadParams& p) override {
    const std::size_t size = region_size(p, 128 * kMiB);
    std::vector<FileDescriptor> files;
    std::vector<ThreadBody> bodies;
    for (unsigned i = 0; i < p.threads; ++i) {
      int fd = -1;
      if (kind_ != 1) {
        files.push_back(make_temp_file(p.dir, size));
        fd = files.back().get();
      }
      const int kind = kind_;
      bodies.push_back([size, fd, kind](const std::atomic<bool>& stop) {
        std::uint64_t pages = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          const int prot = PROT_READ | PROT_WRITE;
          Mapping m = kind == 1   ? Mapping::anonymous(size)
                      : kind == 2 ? Mapping::file(fd, size, prot, MAP_PRIVATE)
                                  : Mapping::file(fd, size, prot, MAP_SHARED);
          for (std::size_t off = 0; off < size; off += kPageSize) {
            if (stop.load(std::memory_order_relaxed)) break;
            touch_byte(m.data() + off);
            ++pages;
          }
        }
        return pages;
      });
    }
    return rate_result(run_timed(bodies, duration_of(p)), "pages_per_s", "pages/s");
  }

 private:
  int kind_;
};

class MmapLoop : public Workload {
 public:
  std::string_view name() const override { return "mmap_loop"; }
  std::string_view description() const override {
    return "one thread: mmap one page, touch it, munmap (regression guard; ignores -t)";
  }
  WorkloadResult run(const WorkloadParams& p) override {
    const std::vector<ThreadBody> bodies{[](const std::atomic<bool>& stop) {
      std::uint64_t ops = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        Mapping m = Mapping::anonymous(kPageSize);
        touch_byte(m.data());
        ++ops;
      }
      return ops;
    }};
    return rate_result(run_timed(bodies, duration_of(p)), "ops_per_s", "ops/s");
  }
};

// @measured beside @others for the run time.
struct BesideRun {
  double beside = 0;               // the measured threads' total rate
  double others = 0;               // the others' total rate
  std::vector<double> per_thread;  // each measured thread's rate
};

BesideRun run_beside(const WorkloadParams& p, const std::vector<ThreadBody>& measured,
                     const std::vector<ThreadBody>& others) {
  std::vector<ThreadBody> bodies = measured;
  bodies.insert(bodies.end(), others.begin(), others.end());
  const TimedRun mixed = run_timed(bodies, duration_of(p));

  const std::span<const ThreadResult> all(mixed.threads);
  BesideRun r;
  r.beside = total_rate(all.first(measured.size()));
  r.others = total_rate(all.subspan(measured.size()));
  for (const ThreadResult& t : all.first(measured.size())) r.per_thread.push_back(t.rate());
  return r;
}

// -t copies of @measured beside @others.
BesideRun run_beside(const WorkloadParams& p, const ThreadBody& measured,
                     const std::vector<ThreadBody>& others) {
  return run_beside(p, std::vector<ThreadBody>(p.threads, measured), others);
}

// @n copies of @body alone for the run time: their total rate.
double run_alone(const WorkloadParams& p, unsigned n, const ThreadBody& body) {
  return total_rate(run_timed(std::vector<ThreadBody>(n, body), duration_of(p)).threads);
}

double ratio(double part, double whole) { return whole > 0 ? part / whole : 0.0; }

// pft alone, then beside -W threads that only spin in user space, then
// beside -W threads that mmap+munmap one untouched page (write-lockers of
// mmap_lock that need no TLB shootdown); last the writers alone.  The
// spinning phase is the control: what -W busy threads cost the faulters
// without touching the mm (under TCG at 2 vCPUs the faulters ran about 5%
// faster beside a spinner than alone), so that writer_vs_control shows
// what the writers cost beyond a busy vCPU.  writer_kept is the writers'
// side: their rate beside the faulters over their rate alone (starved
// writers keep little).
class Writer : public Workload {
 public:
  std::string_view name() const override { return "writer"; }
  std::string_view description() const override {
    return "pft (-t) alone, beside -W spinning threads, beside -W mmap/munmap writer threads, "
           "then the writers alone; -S per phase";
  }
  WorkloadResult run(const WorkloadParams& p) override {
    const ThreadBody fault = pft_body(region_size(p, 64 * kMiB));
    const ThreadBody spinner = [](const std::atomic<bool>& stop) {
      std::uint64_t loops = 0;
      while (!stop.load(std::memory_order_relaxed)) ++loops;
      return loops;
    };
    const ThreadBody writer = [](const std::atomic<bool>& stop) {
      std::uint64_t ops = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        Mapping m = Mapping::anonymous(kPageSize);
        ++ops;
      }
      return ops;
    };
    const double alone = run_alone(p, p.threads, fault);
    const BesideRun spin = run_beside(p, fault, std::vector<ThreadBody>(p.writers, spinner));
    const BesideRun w = run_beside(p, fault, std::vector<ThreadBody>(p.writers, writer));
    const double writer_alone = run_alone(p, p.writers, writer);
    WorkloadResult r;
    r.metrics.push_back({"faults_per_s_alone", alone, "faults/s"});
    r.metrics.push_back({"faults_per_s_with_spinner", spin.beside, "faults/s"});
    r.metrics.push_back({"faults_per_s_with_writer", w.beside, "faults/s"});
    r.metrics.push_back({"fault_ratio", ratio(w.beside, alone), ""});
    r.metrics.push_back({"control_ratio", ratio(spin.beside, alone), ""});
    r.metrics.push_back({"writer_vs_control", ratio(w.beside, spin.beside), ""});
    r.metrics.push_back({"writer_mmaps_per_s", w.others, "mmaps/s"});
    r.metrics.push_back({"writer_mmaps_per_s_alone", writer_alone, "mmaps/s"});
    r.metrics.push_back({"writer_kept", ratio(w.others, writer_alone), ""});
    r.per_thread_metric = "faults_per_s_with_writer";
    r.per_thread = w.per_thread;
    return r;
  }
};

// samevma: -t faulters, each in its own slice of one shared VMA, and -W
// threads that split that VMA and merge it again (mprotect of its last page,
// which nobody touches, to read-only and back): every write hold of
// mmap_lock changes the VMA the faults are in, as ebizzy's mmap and munmap
// do to the merged VMA of its chunks.  No PTE changes, so no TLB shootdown.
// A faulter writes one byte per page of its slice, then MADV_DONTNEED the
// slice, again.  samevma_cow reads each page first, so that each page takes
// two faults: the read maps the zero page, the write copies it (memory that
// is read before it is written).
struct SharedVma {
  Mapping region;         // the slices, then the guard page
  std::size_t slice = 0;  // bytes per faulter

  SharedVma(unsigned faulters, std::size_t slice_size)
      : region(Mapping::anonymous(faulters * slice_size + kPageSize)), slice(slice_size) {
    region.advise(MADV_NOHUGEPAGE);
  }
  std::byte* slice_of(unsigned i) const { return region.data() + i * slice; }
  std::byte* guard() const { return region.data() + region.size() - kPageSize; }
  AddressRange range() const {
    const auto start = reinterpret_cast<std::uintptr_t>(region.data());
    return {start, start + region.size()};
  }
};

// How a faulter touches each page of its slice.
enum class SliceTouch {
  kWrite,         // one fault: a new page
  kReadThenWrite  // two faults: the zero page, then its copy
};

ThreadBody slice_fault_body(std::byte* base, std::size_t size, SliceTouch touch) {
  return [base, size, touch](const std::atomic<bool>& stop) {
    std::uint64_t faults = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      for (std::size_t off = 0; off < size; off += kPageSize) {
        if (stop.load(std::memory_order_relaxed)) break;
        if (touch == SliceTouch::kReadThenWrite) {
          if (read_byte(base + off) != 0)
            throw std::runtime_error("samevma_cow: a page read after MADV_DONTNEED is not zero");
          ++faults;
        }
        touch_byte(base + off);
        ++faults;
      }
      if (::madvise(base, size, MADV_DONTNEED) != 0) throw_errno("madvise");
    }
    return faults;
  };
}

void protect_page(std::byte* page, int prot) {
  if (::mprotect(page, kPageSize, prot) != 0) throw_errno("mprotect");
}

// Split (read-only guard page) and merge (read-write again): two write
// holds of mmap_lock per loop, each changing the shared VMA.
ThreadBody split_merge_body(std::byte* guard) {
  return [guard](const std::atomic<bool>& stop) {
    std::uint64_t calls = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      protect_page(guard, PROT_READ);
      protect_page(guard, PROT_READ | PROT_WRITE);
      calls += 2;
    }
    return calls;
  };
}

class SameVma : public Workload {
 public:
  explicit SameVma(SliceTouch touch) : touch_(touch) {}
  std::string_view name() const override {
    return touch_ == SliceTouch::kWrite ? "samevma" : "samevma_cow";
  }
  std::string_view description() const override {
    if (touch_ == SliceTouch::kReadThenWrite)
      return "samevma, but each page is read before it is written: a zero-page fault, then a "
             "copy-on-write fault";
    return "-t faulters in slices (-s, 16M) of one VMA alone, beside -W threads that split and "
           "merge that VMA with mprotect, then those threads alone; -S per phase";
  }
  WorkloadResult run(const WorkloadParams& p) override {
    const SharedVma vma(p.threads, region_size(p, 16 * kMiB));
    // The writers must really change the faulters' VMA: one VMA, split in
    // two by the read-only guard page, and merged again.
    const std::size_t before = count_mappings(vma.range());
    protect_page(vma.guard(), PROT_READ);
    const std::size_t split = count_mappings(vma.range());
    protect_page(vma.guard(), PROT_READ | PROT_WRITE);
    if (before != 1 || split != 2 || count_mappings(vma.range()) != 1)
      throw std::runtime_error("samevma: the kernel did not split and merge the shared VMA");

    std::vector<ThreadBody> faulters;
    for (unsigned i = 0; i < p.threads; ++i)
      faulters.push_back(slice_fault_body(vma.slice_of(i), vma.slice, touch_));
    const std::vector<ThreadBody> writers(p.writers, split_merge_body(vma.guard()));

    const double alone = total_rate(run_timed(faulters, duration_of(p)).threads);
    const BesideRun w = run_beside(p, faulters, writers);
    const double writer_alone = total_rate(run_timed(writers, duration_of(p)).threads);
    if (count_mappings(vma.range()) != 1)
      throw std::runtime_error(std::string(name()) + ": the shared VMA was left split");

    WorkloadResult r;
    r.metrics.push_back({"faults_per_s_alone", alone, "faults/s"});
    r.metrics.push_back({"faults_per_s_with_writer", w.beside, "faults/s"});
    r.metrics.push_back({"fault_ratio", ratio(w.beside, alone), ""});
    r.metrics.push_back({"writer_calls_per_s", w.others, "mprotects/s"});
    r.metrics.push_back({"writer_calls_per_s_alone", writer_alone, "mprotects/s"});
    r.metrics.push_back({"writer_kept", ratio(w.others, writer_alone), ""});
    r.per_thread_metric = "faults_per_s_with_writer";
    r.per_thread = w.per_thread;
    return r;
  }

 private:
  SliceTouch touch_;
};

// One thread of dontneed: its own region of @size bytes (THP off), one byte
// written per page, then MADV_DONTNEED of the whole region, again.
ThreadBody dontneed_body(std::size_t size) {
  return [size](const std::atomic<bool>& stop) {
    std::uint64_t pages = 0;
    Mapping m = Mapping::anonymous(size);
    m.advise(MADV_NOHUGEPAGE);
    while (!stop.load(std::memory_order_relaxed)) {
      for (std::size_t off = 0; off < size; off += kPageSize) {
        if (stop.load(std::memory_order_relaxed)) break;
        touch_byte(m.data() + off);
        ++pages;
      }
      m.advise(MADV_DONTNEED);
    }
    return pages;
  };
}

// Each thread owns a private anonymous region (THP off): write one byte per
// page, MADV_DONTNEED the region, again.  The madvise() calls of different
// threads cover disjoint ranges, the case sub-range locking of mmap_lock is
// for (CONFIG_MMAP_LOCK_RANGE); the refaults are speculative where the
// kernel has speculative faults.
class DontNeed : public Workload {
 public:
  std::string_view name() const override { return "dontneed"; }
  std::string_view description() const override {
    return "per thread: touch each page of a region (-s, 4M), MADV_DONTNEED it, again";
  }
  WorkloadResult run(const WorkloadParams& p) override {
    const std::vector<ThreadBody> bodies(p.threads, dontneed_body(region_size(p, 4 * kMiB)));
    return rate_result(run_timed(bodies, duration_of(p)), "pages_per_s", "pages/s");
  }
};

// dontneed alone, then beside a thread that asks the test module to
// write-hold mmap_lock for kHoldMs of every kHoldMs + kHoldGap: with
// CONFIG_MMAP_LOCK_RANGE a ranged hold of a 2 MiB block of its own mapping,
// which no dontneed thread's range reaches even rounded out to PMDs;
// without it, the whole lock, which is what a writer of that block must
// take there.  The kept ratio is what sub-range locking buys dontneed.
constexpr unsigned kHoldMs = 10;
constexpr auto kHoldGap = std::chrono::milliseconds(10);

class DontNeedHold : public Workload {
 public:
  std::string_view name() const override { return "dontneed_hold"; }
  std::string_view description() const override {
    return "dontneed (-t) alone, then beside 10 ms module write holds of a disjoint 2 MiB range "
           "(the whole mmap_lock without CONFIG_MMAP_LOCK_RANGE), every 20 ms; -S per phase; "
           "needs the module";
  }
  WorkloadResult run(const WorkloadParams& p) override {
    const FileDescriptor ctl =
        open_module_ctl(p.ctl_path, MMSCALE_FEAT_HOLD_MMAP_LOCK, "cannot hold mmap_lock");
    mmscale_features features{};
    if (::ioctl(ctl.get(), MMSCALE_IOC_FEATURES, &features) != 0)
      throw_errno("ioctl MMSCALE_IOC_FEATURES");
    const bool ranged = (features.features & MMSCALE_FEAT_MMAP_LOCK_RANGE) != 0;
    // Never touched: only its mmap_lock range is held.
    const Mapping held = Mapping::anonymous(4 * kMiB, PROT_NONE);
    const AddressRange block =
        isolated_pmd_block(reinterpret_cast<std::uintptr_t>(held.data()), held.size());
    const ThreadBody holder = [&ctl, ranged, block](const std::atomic<bool>& stop) {
      std::uint64_t holds = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        mmscale_hold hold{};
        hold.mode = ranged ? MMSCALE_HOLD_RANGE_WRITE : MMSCALE_HOLD_WRITE;
        hold.hold_ms = kHoldMs;
        hold.start = block.start;
        hold.end = block.end;
        if (::ioctl(ctl.get(), MMSCALE_IOC_HOLD, &hold) != 0) throw_errno("ioctl MMSCALE_IOC_HOLD");
        ++holds;
        std::this_thread::sleep_for(kHoldGap);
      }
      return holds;
    };

    const ThreadBody body = dontneed_body(region_size(p, 4 * kMiB));
    const double alone = run_alone(p, p.threads, body);
    const BesideRun b = run_beside(p, body, {holder});
    WorkloadResult r;
    r.metrics.push_back({"pages_per_s_alone", alone, "pages/s"});
    r.metrics.push_back({"pages_per_s_with_holds", b.beside, "pages/s"});
    r.metrics.push_back({"kept_ratio", ratio(b.beside, alone), ""});
    r.metrics.push_back({"holds_per_s", b.others, "holds/s"});
    r.metrics.push_back({"ranged_holds", ranged ? 1.0 : 0.0, ""});
    r.per_thread_metric = "pages_per_s_with_holds";
    r.per_thread = b.per_thread;
    return r;
  }
};

}  // namespace

std::vector<std::string_view> workload_names() {
  return {"pft",     "page_fault1", "page_fault2", "page_fault3",   "mmap_loop", "writer",
          "samevma", "samevma_cow", "dontneed",    "dontneed_hold", "holdlat",   "lockbench"};
}

std::unique_ptr<Workload> make_workload(std::string_view name) {
  if (name == "pft") return std::make_unique<Pft>();
  if (name == "page_fault1") return std::make_unique<PageFault>(1);
  if (name == "page_fault2") return std::make_unique<PageFault>(2);
  if (name == "page_fault3") return std::make_unique<PageFault>(3);
  if (name == "mmap_loop") return std::make_unique<MmapLoop>();
  if (name == "writer") return std::make_unique<Writer>();
  if (name == "samevma") return std::make_unique<SameVma>(SliceTouch::kWrite);
  if (name == "samevma_cow") return std::make_unique<SameVma>(SliceTouch::kReadThenWrite);
  if (name == "dontneed") return std::make_unique<DontNeed>();
  if (name == "dontneed_hold") return std::make_unique<DontNeedHold>();
  if (name == "holdlat") return make_holdlat();
  if (name == "lockbench") return make_lockbench();
  return nullptr;
}

}  // namespace mmscale

// torture: see torture.h and README.md.
//
// Address space.  All slots live in one arena placed at a fixed, low address
// (kArenaCandidates) far below where the kernel puts mappings without a hint
// (top-down from mmap_base): a hole that we unmap there is never filled by a
// mapping of someone else (malloc, thread stacks), so "unmapped in the model"
// means "SIGSEGV with SEGV_MAPERR", exactly.  Every mapping the tool makes is
// MAP_FIXED(_NOREPLACE) or MREMAP_FIXED inside a slot; grows are in place.
//
// Model.  Per page: the mapping object (generation, page offset in it), the
// kind (private anonymous, shared anonymous, memfd), protection, content
// state (zero, pattern of a write version, pattern-or-zero after MADV_FREE)
// and a VMA id.  The VMA id names a run of pages that is certainly inside
// one kernel VMA (the kernel may merge more, never less): a new id on mmap,
// fresh ids for an mprotected range, and a fresh id for any piece that an
// munmap, MAP_FIXED or mremap split off (renumber()).  mremap only acts on
// one such run, so it cannot fail with EFAULT for spanning VMAs.
//
// Versions and generations are unique per process run ((thread + 1) << 40 |
// counter), so a pattern is never written twice.
//
// Races.  Everything above keeps faults and VMA changes of one slot apart
// (the slot lock), so the window in which a speculative fault must notice
// that its VMA changed under it never opens.  A race (Op::kRace) opens it:
// see RaceTeam and Worker::op_race.
#include "torture.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21  // Linux 5.4; older C libraries lack the name
#endif

#include "cli.h"
#include "error.h"
#include "mmscale_test.h"

namespace mmscale::torture {
namespace {

// ---------------------------------------------------------------- random

std::uint64_t mix64(std::uint64_t x) {  // splitmix64's finaliser: a bijection
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// splitmix64: small, fast, and the same sequence everywhere.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix64(state_);
  }

 private:
  std::uint64_t state_;
};

// The random values one operation draws, always the same number of them, so
// that a thread's sequence of choices does not depend on the model state.
struct Draw {
  std::array<std::uint64_t, 8> v{};
  // v[i] reduced to [0, n); n > 0.
  std::uint32_t below(std::size_t i, std::uint64_t n) const {
    return static_cast<std::uint32_t>((static_cast<unsigned __int128>(v[i]) * n) >> 64);
  }
};

// ---------------------------------------------------------------- model

enum class Kind : std::uint8_t { kPrivate, kSharedAnon, kMemfd };
enum class Content : std::uint8_t { kZero, kPattern, kPatternOrZero };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kPrivate:
      return "private";
    case Kind::kSharedAnon:
      return "shared";
    case Kind::kMemfd:
      return "memfd";
  }
  return "?";
}

std::string prot_name(int prot) {
  if (prot == PROT_NONE) return "none";
  std::string s;
  if ((prot & PROT_READ) != 0) s += 'r';
  if ((prot & PROT_WRITE) != 0) s += 'w';
  return s;
}

struct Page {
  std::uint64_t gen = 0;  // 0: not mapped
  std::uint64_t version = 0;
  std::uint64_t vma = 0;
  std::uint32_t off = 0;
  std::uint8_t prot = 0;
  Kind kind = Kind::kPrivate;
  Content content = Content::kZero;
  bool mapped() const { return gen != 0; }
};

// The si_code a read or write of @p must get, or 0 where it must succeed.
int expected_fault(const Page& p, bool write) {
  if (!p.mapped()) return SEGV_MAPERR;
  if (p.prot == PROT_NONE) return SEGV_ACCERR;
  if (write && (p.prot & PROT_WRITE) == 0) return SEGV_ACCERR;
  return 0;
}

bool word_allowed(const Page& p, std::size_t i, std::uint64_t w) {
  switch (p.content) {
    case Content::kZero:
      return w == 0;
    case Content::kPattern:
      return w == pattern_word(p.gen, p.off, p.version, i);
    case Content::kPatternOrZero:
      return w == 0 || w == pattern_word(p.gen, p.off, p.version, i);
  }
  return false;
}

struct Mismatch {
  std::size_t word;
  std::uint64_t expected;
  std::uint64_t found;
};

// First word of @words that @p does not allow.  After MADV_FREE the kernel
// may discard the page at any time, also while it is being read: a copy is
// then old words up to some point and zero from there on, never zero then old.
std::optional<Mismatch> compare_page(const Page& p, const std::uint64_t* words) {
  std::size_t i = 0;
  if (p.content != Content::kZero) {
    for (; i < kWordsPerPage; ++i) {
      const std::uint64_t want = pattern_word(p.gen, p.off, p.version, i);
      if (words[i] == want) continue;
      if (p.content == Content::kPattern || words[i] != 0) return Mismatch{i, want, words[i]};
      break;  // kPatternOrZero: zero from here on
    }
  }
  for (; i < kWordsPerPage; ++i)
    if (words[i] != 0) return Mismatch{i, 0, words[i]};
  return std::nullopt;
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string describe(const Page& p) {
  if (!p.mapped()) return "unmapped";
  std::string s = std::string(kind_name(p.kind)) + " prot=" + prot_name(p.prot) +
                  " gen=" + hex(p.gen) + " off=" + std::to_string(p.off) + " vma=" + hex(p.vma);
  switch (p.content) {
    case Content::kZero:
      return s + " content=zero";
    case Content::kPattern:
      return s + " content=pattern version=" + hex(p.version);
    case Content::kPatternOrZero:
      return s + " content=pattern-or-zero (MADV_FREE) version=" + hex(p.version);
  }
  return s;
}

const char* fault_name(int signo, int code) {
  if (signo == 0) return "no fault";
  if (signo == SIGBUS) return "SIGBUS";
  if (code == SEGV_MAPERR) return "SIGSEGV/SEGV_MAPERR";
  if (code == SEGV_ACCERR) return "SIGSEGV/SEGV_ACCERR";
  return "SIGSEGV/other si_code";
}

// ---------------------------------------------------------------- faults

// Per-thread landing pad for SIGSEGV/SIGBUS during a guarded access.  The
// handler is installed with SA_NODEFER, so sigsetjmp need not save the mask.
// Zero-initialised (thread storage), no constructor: safe in a signal handler.
struct Probe {
  sigjmp_buf env;
  volatile sig_atomic_t active;
  int signo;
  int code;
  std::uintptr_t addr;
};
thread_local Probe t_probe;

struct Fault {
  int signo = 0;  // 0: the access completed
  int code = 0;
  std::uintptr_t addr = 0;
};

extern "C" void on_fault(int sig, siginfo_t* si, void*) {
  Probe& p = t_probe;
  if (p.active == 0) {  // a real crash: let it happen
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, nullptr);
    return;
  }
  p.active = 0;
  p.signo = sig;
  p.code = si->si_code;
  p.addr = reinterpret_cast<std::uintptr_t>(si->si_addr);
  siglongjmp(p.env, 1);
}

// Installs on_fault for SIGSEGV and SIGBUS; restores the previous handlers
// (e.g. a sanitizer's or the test framework's) when destroyed.
class FaultHandler {
 public:
  FaultHandler() {
    struct sigaction sa {};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (::sigaction(SIGSEGV, &sa, &old_segv_) != 0) throw_errno("sigaction SIGSEGV");
    if (::sigaction(SIGBUS, &sa, &old_bus_) != 0) {
      const int err = errno;
      ::sigaction(SIGSEGV, &old_segv_, nullptr);
      throw SysError("sigaction SIGBUS", err);
    }
  }
  ~FaultHandler() {
    ::sigaction(SIGSEGV, &old_segv_, nullptr);
    ::sigaction(SIGBUS, &old_bus_, nullptr);
  }
  FaultHandler(const FaultHandler&) = delete;
  FaultHandler& operator=(const FaultHandler&) = delete;

 private:
  struct sigaction old_segv_ {};
  struct sigaction old_bus_ {};
};

// Copies one page to @out; a fault stops the copy and is returned.
[[gnu::noinline]] Fault guarded_copy(const std::byte* page, std::uint64_t* out) {
  Probe& p = t_probe;
  if (sigsetjmp(p.env, 0) != 0) return {p.signo, p.code, p.addr};
  p.active = 1;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  const auto* src = reinterpret_cast<const volatile std::uint64_t*>(page);
  for (std::size_t i = 0; i < kWordsPerPage; ++i) out[i] = src[i];
  std::atomic_signal_fence(std::memory_order_seq_cst);
  p.active = 0;
  return {};
}

// Fills one page with the pattern of (gen, off, version).
[[gnu::noinline]] Fault guarded_fill(std::byte* page, std::uint64_t gen, std::uint64_t off,
                                     std::uint64_t version) {
  Probe& p = t_probe;
  if (sigsetjmp(p.env, 0) != 0) return {p.signo, p.code, p.addr};
  p.active = 1;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  auto* dst = reinterpret_cast<volatile std::uint64_t*>(page);
  for (std::size_t i = 0; i < kWordsPerPage; ++i) dst[i] = pattern_word(gen, off, version, i);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  p.active = 0;
  return {};
}

// One aligned 8-byte load (single-copy atomic on the architectures we run on).
[[gnu::noinline]] Fault guarded_load(const std::byte* addr, std::uint64_t* out) {
  Probe& p = t_probe;
  if (sigsetjmp(p.env, 0) != 0) return {p.signo, p.code, p.addr};
  p.active = 1;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  *out = __atomic_load_n(reinterpret_cast<const std::uint64_t*>(addr), __ATOMIC_RELAXED);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  p.active = 0;
  return {};
}

// One aligned 8-byte store: it either happens or faults, never half.
[[gnu::noinline]] Fault guarded_store(std::byte* addr, std::uint64_t value) {
  Probe& p = t_probe;
  if (sigsetjmp(p.env, 0) != 0) return {p.signo, p.code, p.addr};
  p.active = 1;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  __atomic_store_n(reinterpret_cast<std::uint64_t*>(addr), value, __ATOMIC_RELAXED);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  p.active = 0;
  return {};
}

// ---------------------------------------------------------------- shared state

// Fixed arena addresses, tried in order: above ASan's shadow
// (0x10007fff8000) and far below PIE binaries (0x55...) and mmap_base (0x7f...).
constexpr std::array<std::uintptr_t, 3> kArenaCandidates{0x300000000000, 0x280000000000,
                                                         0x200000000000};

// Finds a free range of @size bytes (reserves it and releases it again);
// @fixed says whether it is one of kArenaCandidates.
std::byte* find_arena(std::size_t size, bool& fixed) {
  for (std::uintptr_t a : kArenaCandidates) {
    void* p = ::mmap(reinterpret_cast<void*>(a), size, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED) continue;
    const Mapping m(p, size);               // unmapped again on return
    if (p == reinterpret_cast<void*>(a)) {  // else: no MAP_FIXED_NOREPLACE (< 4.17)
      fixed = true;
      return m.data();
    }
  }
  Mapping m = Mapping::anonymous(size, PROT_NONE, MAP_PRIVATE | MAP_NORESERVE);
  fixed = false;
  return m.data();
}

struct Slot {
  std::mutex mu;
  std::atomic<std::uint64_t> changes{0};  // bumped (under mu) by every model change
  std::byte* base = nullptr;
  std::vector<Page> pages;  // guarded by mu
};

struct FailureInfo {
  unsigned thread;
  std::string text;
};

struct Shared {
  const Options& opt;
  unsigned npages;  // pages per slot
  std::unique_ptr<Slot[]> slots;
  FileDescriptor ctl;
  bool hold = false;
  bool hold_range = false;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> ops_started{0};
  std::atomic<bool> injected{false};
  std::mutex done_mu;
  std::condition_variable done_cv;
  std::optional<FailureInfo> failure;  // guarded by done_mu
  unsigned running = 0;                // guarded by done_mu

  explicit Shared(const Options& o) : opt(o), npages(o.max_pages) {}
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  // Unmaps what the model says is mapped: never the arena as a whole, which
  // (where it is not at a fixed address) may hold someone else's mapping.
  ~Shared() {
    for (unsigned i = 0; slots && i < opt.mappings; ++i)
      for (unsigned p = 0; p < npages; ++p)
        if (slots[i].pages[p].mapped()) ::munmap(slots[i].base + p * kPageSize, kPageSize);
  }
};

struct Weight {
  Op op;
  unsigned weight;  // per 1000
};
constexpr std::array<Weight, kOpCount> kWeights{{{Op::kRead, 200},
                                                 {Op::kWrite, 200},
                                                 {Op::kRacyRead, 90},
                                                 {Op::kMmap, 90},
                                                 {Op::kMunmap, 35},
                                                 {Op::kMprotect, 80},
                                                 {Op::kGrow, 40},
                                                 {Op::kShrink, 35},
                                                 {Op::kMove, 45},
                                                 {Op::kDontneed, 60},
                                                 {Op::kFree, 40},
                                                 {Op::kWillneed, 25},
                                                 {Op::kFork, 8},
                                                 {Op::kHold, 2},
                                                 {Op::kRace, 30}}};

// Not-mapped-by-us sentinel for fork samples.
constexpr std::uint64_t kChildVersion = ~0ULL;
constexpr std::size_t kForkSamples = 8;
constexpr std::size_t kRacyReads = 16;

// What a forked child reports back through a shared page.
struct ChildReport {
  std::uint32_t sample;
  std::uint32_t word;
  std::uint64_t expected;
  std::uint64_t found;
  std::int32_t signo;
  std::int32_t code;
  std::uint64_t addr;
};

struct Sample {
  std::byte* addr;
  Page page;
};

// The child's check: no allocation, no locks (the parent is multi-threaded).
int child_check(std::span<const Sample> samples, ChildReport* report) {
  alignas(64) std::uint64_t buf[kWordsPerPage];
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    const int want = expected_fault(s.page, false);
    const Fault f = guarded_copy(s.addr, buf);
    if (f.signo != 0 || want != 0) {
      if (f.signo == SIGSEGV && f.code == want &&
          f.addr == reinterpret_cast<std::uintptr_t>(s.addr))
        continue;
      *report = {static_cast<std::uint32_t>(i), 0, 0, 0, f.signo, f.code, f.addr};
      return 2;
    }
    if (const auto m = compare_page(s.page, buf)) {
      *report = {static_cast<std::uint32_t>(i),
                 static_cast<std::uint32_t>(m->word),
                 m->expected,
                 m->found,
                 0,
                 0,
                 0};
      return 1;
    }
  }
  // Write into one private page: the parent must not see it.
  for (const Sample& s : samples) {
    if (s.page.kind == Kind::kPrivate && expected_fault(s.page, true) == 0) {
      if (guarded_fill(s.addr, s.page.gen, s.page.off, kChildVersion).signo != 0) return 3;
      break;
    }
  }
  return 0;
}

// ---------------------------------------------------------------- races
//
// A race empties a run of private pages (MADV_DONTNEED), lets the worker's
// racer threads write-fault into it without the slot lock, and changes the
// run's VMA while their faults are in flight.  Each racer owns one word of
// every page and remembers the last value it wrote into each page, so that
// afterwards the contents of every page still mapped by the raced object are
// known exactly: a lost write and a value that went through a stale
// translation (another page's, another generation's) both differ.  A racer
// write fails only where the change allows it (the changed pages, once the
// change began, with the change's si_code), and must fail there once the
// change returned.

constexpr std::uint32_t kMaxRacePages = 32;
// How long the owner waits for the racers' first faults before it changes
// the VMA anyway (a racer may not get a CPU soon on a loaded machine).
constexpr auto kRaceWait = std::chrono::milliseconds(5);
// Racer writes between two yields of the CPU.
constexpr std::uint32_t kRacerBurst = 16;
// Marks the word a forked child writes into each raced page.
constexpr std::size_t kChildWord = kWordsPerPage - 1;

// The word of each page that racer @k writes: its own.
constexpr std::size_t racer_word_index(unsigned k) { return 1 + 8 * std::size_t{k}; }
// The racer (of @racers) whose word is word @w of a page, if any.
constexpr std::optional<unsigned> racer_of_word(std::size_t w, unsigned racers) {
  if (w == 0 || (w - 1) % 8 != 0 || (w - 1) / 8 >= racers) return std::nullopt;
  return static_cast<unsigned>((w - 1) / 8);
}

// The raced pages and what the racers write into them; plain data, so that a
// forked child can use it.
struct RaceRange {
  std::byte* base = nullptr;  // the racers' first page
  std::uint32_t pages = 0;
  std::uint64_t race = 0;  // unique in the run
  unsigned racers = 0;
  std::array<std::uint64_t, kMaxRacePages> gen{};  // the raced object of each page
  std::array<std::uint32_t, kMaxRacePages> off{};

  std::byte* page(std::uint32_t i) const { return base + std::size_t{i} * kPageSize; }
  std::byte* word(std::uint32_t i, unsigned k) const {
    return page(i) + racer_word_index(k) * sizeof(std::uint64_t);
  }
  std::uint64_t value(std::uint32_t i, unsigned k, std::uint32_t count) const {
    return racer_word(gen[i], off[i], race, racer_word_index(k), count);
  }
  // Whether racer @k may have written @v into page @i (any count).
  bool of_racer(std::uint32_t i, unsigned k, std::uint64_t v) const {
    return (v >> 32) == (value(i, k, 0) >> 32) && static_cast<std::uint32_t>(v) != 0;
  }
};

// Ordered: a racer write may fault from kChanging on.
enum class Phase : std::uint32_t { kIdle, kRun, kChanging, kDone, kAbort };

// Whether an access that began in phase @before and ended in @after
// overlapped the change's system call (kChanging .. kDone).
bool overlapped(Phase before, Phase after) {
  return before == Phase::kChanging || (before == Phase::kRun && after >= Phase::kChanging);
}

struct RaceJob {
  RaceRange range;
  // The pages (relative to the range) whose racer writes may fault once the
  // change began, and must fault once it returned; with that si_code (0: no
  // fault anywhere).
  std::uint32_t changed_first = 0;
  std::uint32_t changed_count = 0;
  int segv_code = 0;
  std::atomic<Phase> phase{Phase::kIdle};
  std::array<std::atomic<bool>, kMaxRacePages> touched{};  // written since emptied
  std::atomic<std::uint32_t> faulted{0};                   // pages touched
  std::atomic<std::uint32_t> running{0};                   // racers that started

  bool changed(std::uint32_t i) const {
    return segv_code != 0 && i >= changed_first && i - changed_first < changed_count;
  }
};

// What one racer did in the current race; read by the owner once it finished.
struct RacerResult {
  std::array<std::uint64_t, kMaxRacePages> last{};  // last value written per page; 0: none
  std::uint64_t writes = 0;
  std::uint64_t faults = 0;
  std::uint64_t segvs = 0;
  std::uint64_t overlaps = 0;  // faults (first writes, SIGSEGVs) that overlapped the change
  std::string failure;         // empty: none
};

// A worker's racer threads: parked (futex) until the worker starts a race.
class RaceTeam {
 public:
  explicit RaceTeam(unsigned racers) : results_(racers) {
    try {
      for (unsigned k = 0; k < racers; ++k) threads_.emplace_back([this, k] { park(k); });
    } catch (...) {  // no thread left: the racers started so far would park forever
      stop();
      throw;
    }
  }
  ~RaceTeam() { stop(); }
  RaceTeam(const RaceTeam&) = delete;
  RaceTeam& operator=(const RaceTeam&) = delete;

  unsigned size() const { return static_cast<unsigned>(results_.size()); }
  // Every racer writes into job.range until the phase is kDone (then once
  // more into every page) or kAbort.
  void start(RaceJob& job, std::uint64_t seed) {
    job_ = &job;
    seed_ = seed;
    for (RacerResult& r : results_) r = RacerResult{};
    finished_.store(0);
    job.phase.store(Phase::kRun);
    epoch_.fetch_add(1, std::memory_order_release);
    epoch_.notify_all();
  }
  std::uint32_t finished() const { return finished_.load(std::memory_order_acquire); }
  // Until every racer finished the race.
  void wait() {
    for (std::uint32_t f; (f = finished()) < size();) finished_.wait(f, std::memory_order_acquire);
  }
  const RacerResult& result(unsigned k) const { return results_[k]; }

 private:
  void stop() {
    quit_.store(true);
    epoch_.fetch_add(1, std::memory_order_release);
    epoch_.notify_all();
    threads_.clear();  // joins
  }
  void park(unsigned k) {
    std::uint32_t seen = 0;
    for (;;) {
      epoch_.wait(seen, std::memory_order_acquire);
      seen = epoch_.load(std::memory_order_acquire);
      if (quit_.load()) return;
      race(k);
      finished_.fetch_add(1, std::memory_order_release);
      finished_.notify_all();
    }
  }
  void race(unsigned k);
  bool write(unsigned k, std::uint32_t i, Phase before, std::uint32_t count);

  RaceJob* job_ = nullptr;
  std::uint64_t seed_ = 0;
  std::vector<RacerResult> results_;
  std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::uint32_t> finished_{0};
  std::atomic<bool> quit_{false};
  std::vector<std::jthread> threads_;
};

void RaceTeam::race(unsigned k) {
  RaceJob& job = *job_;
  const std::uint32_t n = job.range.pages;
  // Each racer walks the pages from its own place on: until they meet,
  // nearly every write is a page's first, a fault, so that faults are still
  // streaming when the change comes.
  std::uint32_t i = static_cast<std::uint32_t>(mix64(seed_) % n) + k * n / size();
  std::uint32_t count = 0;
  job.running.fetch_add(1, std::memory_order_relaxed);
  for (;;) {
    const Phase ph = job.phase.load(std::memory_order_acquire);
    if (ph == Phase::kAbort) return;
    if (ph == Phase::kDone) {  // once more everywhere: the change must show
      for (std::uint32_t p = 0; p < n; ++p)
        if (!write(k, p, ph, ++count)) return;
      return;
    }
    // The count must not wrap (a write is a few ns, a race some ms; only a
    // racer whose owner lost its CPU for a long time gets here).
    if (count >= ~std::uint32_t{0} - kMaxRacePages) {
      std::this_thread::yield();
      continue;
    }
    if (!write(k, i++ % n, ph, ++count)) return;
    // Writes into pages already in fault no more until the change: leave the
    // CPU to the owner now and then (machines running these are often
    // oversubscribed), but keep writing through the change.
    if (count % kRacerBurst == 0) std::this_thread::yield();
  }
}

// Racer @k's write number @count into page @i; @before is the phase seen
// before it.  False (with the result's failure set) where its outcome is
// wrong.
bool RaceTeam::write(unsigned k, std::uint32_t i, Phase before, std::uint32_t count) {
  RaceJob& job = *job_;
  RacerResult& res = results_[k];
  std::byte* addr = job.range.word(i, k);
  const std::uint64_t v = job.range.value(i, k, count);
  const Fault f = guarded_store(addr, v);
  auto where = [&] {
    return "racer " + std::to_string(k) + ": write at " +
           hex(reinterpret_cast<std::uintptr_t>(addr)) + " (page " + std::to_string(i) +
           " of the range)";
  };
  if (f.signo == 0) {
    if (before == Phase::kDone && job.changed(i)) {
      res.failure = where() + " succeeded after the change returned; expected " +
                    fault_name(SIGSEGV, job.segv_code);
      return false;
    }
    res.last[i] = v;
    ++res.writes;
    if (!job.touched[i].load(std::memory_order_relaxed) && !job.touched[i].exchange(true)) {
      ++res.faults;  // the page was empty: this write faulted
      job.faulted.fetch_add(1, std::memory_order_relaxed);
      if (overlapped(before, job.phase.load(std::memory_order_relaxed))) ++res.overlaps;
    }
    return true;
  }
  const Phase after = job.phase.load(std::memory_order_acquire);
  if (f.signo == SIGSEGV && after >= Phase::kChanging && job.changed(i) &&
      f.code == job.segv_code && f.addr == reinterpret_cast<std::uintptr_t>(addr)) {
    ++res.segvs;
    if (overlapped(before, after)) ++res.overlaps;
    return true;
  }
  res.failure = where() + ": got " + fault_name(f.signo, f.code) + " at si_addr " + hex(f.addr);
  if (after < Phase::kChanging)
    res.failure += " before the change began";
  else if (!job.changed(i))
    res.failure += " outside the changed pages";
  else
    res.failure += "; expected " + std::string(fault_name(SIGSEGV, job.segv_code));
  return false;
}

// Ends a race's racers: wait() once the change returned; where the owner
// leaves early (a failed system call) the destructor aborts them, so that
// none writes on while the failure is reported.
class RaceGuard {
 public:
  RaceGuard(RaceTeam& team, RaceJob& job) : team_(team), job_(job) {}
  ~RaceGuard() {
    if (done_) return;
    job_.phase.store(Phase::kAbort);
    team_.wait();
  }
  RaceGuard(const RaceGuard&) = delete;
  RaceGuard& operator=(const RaceGuard&) = delete;
  void wait() {
    team_.wait();
    done_ = true;
  }

 private:
  RaceTeam& team_;
  RaceJob& job_;
  bool done_ = false;
};

// Says what a value found in page @i of a race is, for the failure report.
std::string explain_race_value(const RaceRange& r, std::uint32_t i, std::uint64_t found,
                               std::uint64_t want) {
  if (found == 0) return "zero: the write was lost";
  for (std::uint32_t j = 0; j < r.pages; ++j) {
    for (unsigned k = 0; k < r.racers; ++k) {
      if (!r.of_racer(j, k, found)) continue;
      const std::string what = "racer " + std::to_string(k) + "'s write #" +
                               std::to_string(static_cast<std::uint32_t>(found)) + " into page " +
                               std::to_string(j) + " of the range";
      if (j != i) return what + ": another page's value (a fault through a stale translation)";
      if (want != 0 && r.of_racer(i, k, want) &&
          static_cast<std::uint32_t>(found) < static_cast<std::uint32_t>(want))
        return what + ": an older write (a later one was lost)";
      return what;
    }
  }
  return "no racer of this race wrote it into this page (stale data of another generation, "
         "offset or race)";
}

// The child of a fork during a race (no allocation, no locks: the parent is
// multi-threaded).  In its copy of the range a racer's word is zero or a
// value that racer wrote into that page, every other word zero; the copy
// must not change while the parent's racers write on (a write of theirs that
// reaches a page shared with the child is a copy-on-write that did not
// happen).  Then it writes one word of each page, which the parent must not
// see.  Exit status 0; 1 a wrong word; 2 a fault; 3 the copy changed.
int race_child_check(const RaceRange& r, ChildReport* report) {
  alignas(64) std::uint64_t buf[kWordsPerPage];
  std::array<std::uint64_t, kMaxRacePages> sums{};
  for (int pass = 0; pass < 2; ++pass) {
    for (std::uint32_t i = 0; i < r.pages; ++i) {
      const Fault f = guarded_copy(r.page(i), buf);
      if (f.signo != 0) {
        *report = {i, 0, 0, 0, f.signo, f.code, f.addr};
        return 2;
      }
      std::uint64_t sum = 0;
      for (std::size_t w = 0; w < kWordsPerPage; ++w) {
        sum = mix64(sum ^ buf[w]);
        bool ok = buf[w] == 0;
        for (unsigned k = 0; k < r.racers && !ok; ++k)
          ok = w == racer_word_index(k) && r.of_racer(i, k, buf[w]);
        if (!ok) {
          *report = {i, static_cast<std::uint32_t>(w), 0, buf[w], 0, 0, 0};
          return 1;
        }
      }
      if (pass == 0) {
        sums[i] = sum;
      } else if (sums[i] != sum) {
        *report = {i, 0, sums[i], sum, 0, 0, 0};
        return 3;
      }
    }
    // Give the parent's racers time to write on.
    for (int y = 0; pass == 0 && y < 4; ++y) ::sched_yield();
  }
  for (std::uint32_t i = 0; i < r.pages; ++i) {
    std::byte* addr = r.page(i) + kChildWord * sizeof(std::uint64_t);
    const Fault f =
        guarded_store(addr, pattern_word(r.gen[i], r.off[i], kChildVersion, kChildWord));
    if (f.signo != 0) {
      *report = {i, static_cast<std::uint32_t>(kChildWord), 0, 0, f.signo, f.code, f.addr};
      return 2;
    }
  }
  return 0;
}

// What one race does, drawn before it starts.
struct RacePlan {
  RaceChange change = RaceChange::kMunmap;
  // The changed pages, relative to the range (kShrink: the tail; kMove: all;
  // kFork, kPageout: none).
  std::uint32_t first = 0;
  std::uint32_t count = 0;
  std::uint32_t dest = 0;  // kMove: the destination's first page in the slot
  // kMapFixed: the new mapping.
  Kind kind = Kind::kPrivate;
  int prot = PROT_READ;
  std::uint32_t target = 0;  // racer faults to wait for before the change
  // Empty the pages again under the racers' feet just before the change, so
  // that their writes are faults right up to it (as in selftests/spf_race):
  // the window of a fault that found the VMA before the change and takes
  // the page table lock after it.
  bool storm = false;
};

// The si_code of a racer write into a changed page once the change began.
int race_segv_code(RaceChange c) {
  switch (c) {
    case RaceChange::kMunmap:
    case RaceChange::kMove:
    case RaceChange::kShrink:
      return SEGV_MAPERR;
    case RaceChange::kProtRead:
    case RaceChange::kProtNone:
    case RaceChange::kMapFixed:
      return SEGV_ACCERR;
    case RaceChange::kFork:
    case RaceChange::kPageout:
    case RaceChange::kCount:
      break;
  }
  return 0;
}

// ---------------------------------------------------------------- worker

struct Range {
  std::uint32_t first;
  std::uint32_t count;
};

class Worker {
 public:
  Worker(Shared& sh, unsigned index)
      : sh_(sh),
        index_(index),
        rng_(mix64(*sh.opt.seed ^ mix64(index + 1))),
        log_(std::max(1U, sh.opt.log_tail)),
        report_(Mapping::anonymous(kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED)),
        team_(sh.opt.race ? sh.opt.racers : 0) {}

  void run();
  const Counts& counts() const { return counts_; }
  const RingLog<OpRecord>& log() const { return log_; }

 private:
  std::uint64_t next_id() { return (std::uint64_t{index_} + 1) << 40 | ++ids_; }
  Slot& slot(std::uint32_t i) { return sh_.slots[i]; }
  std::byte* page_addr(const Slot& s, std::uint32_t p) const { return s.base + p * kPageSize; }

  void one_op(const Draw& d);
  void op_read(const Draw& d);
  void op_write(const Draw& d);
  void op_racy_read(const Draw& d);
  void op_mmap(const Draw& d);
  void op_munmap(const Draw& d);
  void op_mprotect(const Draw& d);
  void op_mremap(const Draw& d, Op op);
  void op_madvise(const Draw& d, Op op);
  void op_fork(const Draw& d);
  void op_hold(const Draw& d);
  void op_race(const Draw& d);

  // Maps [p, p + n) of @s (locked) afresh, MAP_FIXED over live pages or
  // MAP_FIXED_NOREPLACE into a hole, and models it.
  void map_range(Slot& s, std::uint32_t p, std::uint32_t n, Kind kind, int prot);
  // Models mprotect(@prot) of @r: a VMA of its own per old VMA id.
  void protect_model(Slot& s, Range r, int prot);
  // Models munmap of @r.
  void unmap_model(Slot& s, Range r);

  // Races (see op_race).
  Range race_range(Slot& s, const Draw& d);
  RacePlan plan_race(const Draw& d, Range r, Rng& more) const;
  void arm_race(Slot& s, Range r, const RacePlan& plan);
  pid_t race_change(Slot& s, Range r, const RacePlan& plan);
  void end_race(pid_t child);
  void check_race(Slot& s, Range r, const RacePlan& plan);
  void check_raced(std::uint32_t i, std::byte* addr, const Page& pg, bool stormed);
  void refill_holes(Slot& s, Range r);
  void probe_write(Slot& s, std::uint32_t p);

  // Checks page @p of @s (locked) against the model: contents or SIGSEGV.
  void verify(Slot& s, std::uint32_t p);
  // Writes a new version into page @p of @s (locked); returns whether it did.
  bool write_page(Slot& s, std::uint32_t p);
  // The first mapped page at or after @from (cyclic), or nullopt.
  std::optional<std::uint32_t> find_mapped(const Slot& s, std::uint32_t from) const;
  // Up to @max mapped pages from @first on that satisfy @ok.
  template <class Pred>
  Range mapped_run(const Slot& s, std::uint32_t first, std::uint32_t max, Pred ok) const;
  // The whole run of VMA id of page @p.
  Range vma_run(const Slot& s, std::uint32_t p) const;
  // Gives every piece of a VMA id that is not contiguous with its first run a
  // fresh id.
  void renumber(Slot& s);
  void changed(Slot& s) { s.changes.fetch_add(1, std::memory_order_relaxed); }

  [[noreturn]] void fail(const std::string& what);
  [[noreturn]] void fail_sys(const char* call, int err) {
    fail(std::string(call) + " failed: " + std::strerror(err) + " (errno " + std::to_string(err) +
         ")");
  }
  [[noreturn]] void fail_fault(const char* access, std::byte* addr, const Page& pg, int want,
                               const Fault& f);

  Shared& sh_;
  const unsigned index_;
  Rng rng_;
  RingLog<OpRecord> log_;
  Mapping report_;  // MAP_SHARED: written by forked children
  Counts counts_;
  OpRecord cur_;
  std::uint64_t seq_ = 0;
  std::uint64_t ids_ = 0;
  alignas(64) std::array<std::uint64_t, kWordsPerPage> buf_{};
  RaceJob job_;    // the current race; declared before its racers, which use it
  RaceTeam team_;  // joined first
};

void Worker::run() {
  t_probe.active = 0;
  const std::uint64_t limit = sh_.opt.ops;
  while (!sh_.stop.load(std::memory_order_relaxed)) {
    if (limit != 0 && sh_.ops_started.fetch_add(1, std::memory_order_relaxed) >= limit) break;
    Draw d;
    for (std::uint64_t& v : d.v) v = rng_.next();
    one_op(d);
  }
}

void Worker::one_op(const Draw& d) {
  unsigned total = 0;
  auto enabled = [this](Op op) {
    if (op == Op::kFork) return sh_.opt.fork;
    if (op == Op::kHold) return sh_.hold;
    if (op == Op::kMove) return sh_.opt.mappings > 1;
    if (op == Op::kRace) return team_.size() > 0;
    return true;
  };
  for (const Weight& w : kWeights)
    if (enabled(w.op)) total += w.weight;
  std::uint32_t r = d.below(0, total);
  Op op = Op::kRead;
  for (const Weight& w : kWeights) {
    if (!enabled(w.op)) continue;
    if (r < w.weight) {
      op = w.op;
      break;
    }
    r -= w.weight;
  }
  cur_ = OpRecord{};
  cur_.seq = seq_++;
  cur_.op = op;
  cur_.slot = d.below(1, sh_.opt.mappings);
  ++counts_.ops[static_cast<std::size_t>(op)];
  switch (op) {
    case Op::kRead:
      op_read(d);
      break;
    case Op::kWrite:
      op_write(d);
      break;
    case Op::kRacyRead:
      op_racy_read(d);
      break;
    case Op::kMmap:
      op_mmap(d);
      break;
    case Op::kMunmap:
      op_munmap(d);
      break;
    case Op::kMprotect:
      op_mprotect(d);
      break;
    case Op::kGrow:
    case Op::kShrink:
    case Op::kMove:
      op_mremap(d, op);
      break;
    case Op::kDontneed:
    case Op::kFree:
    case Op::kWillneed:
      op_madvise(d, op);
      break;
    case Op::kFork:
      op_fork(d);
      break;
    case Op::kHold:
      op_hold(d);
      break;
    case Op::kRace:
      op_race(d);
      break;
    case Op::kCount:
      break;
  }
  if (cur_.pages == 0 && op != Op::kHold) ++counts_.skipped;
  log_.push(cur_);
}

// ---- checks

void Worker::fail(const std::string& what) {
  log_.push(cur_);
  std::string t = "torture: FAILED (seed " + std::to_string(*sh_.opt.seed) + ")\n";
  t += "thread " + std::to_string(index_) + ", operation " + cur_.format() + "\n";
  t += what + "\n";
  t += "last " + std::to_string(log_.tail().size()) + " operations of thread " +
       std::to_string(index_) + " (of " + std::to_string(log_.total()) + "):\n";
  for (const OpRecord& r : log_.tail()) t += "  " + r.format() + "\n";
  std::string cmd = " --seed " + std::to_string(*sh_.opt.seed) + " --mappings " +
                    std::to_string(sh_.opt.mappings) + " --max-pages " +
                    std::to_string(sh_.opt.max_pages) + (sh_.opt.fork ? "" : " --no-fork");
  if (!sh_.opt.race)
    cmd += " --no-race";
  else if (sh_.opt.racers != Options{}.racers)
    cmd += " --racers " + std::to_string(sh_.opt.racers);
  if (sh_.opt.threads == 1)
    t += "replay (same operation sequence): torture -t 1" + cmd + " --ops " +
         std::to_string(cur_.seq + 1) + "\n";
  else
    t += "rerun: torture -t " + std::to_string(sh_.opt.threads) + cmd +
         " (same choices per thread, another interleaving)\n";
  {
    // Recorded now, before unwinding releases the slot locks: another thread
    // may then see what this operation left half done (a race's pages before
    // they are emptied again) and must not be reported instead.
    const std::scoped_lock lock(sh_.done_mu);
    if (!sh_.failure) sh_.failure = FailureInfo{index_, t};
    sh_.stop.store(true);
  }
  throw Failure(t);
}

void Worker::fail_fault(const char* access, std::byte* addr, const Page& pg, int want,
                        const Fault& f) {
  fail(std::string(access) + " at " + hex(reinterpret_cast<std::uintptr_t>(addr)) + ": expected " +
       (want == 0 ? "no fault" : fault_name(SIGSEGV, want)) + ", got " +
       fault_name(f.signo, f.code) + (f.signo != 0 ? " at si_addr " + hex(f.addr) : "") +
       "\n  model: " + describe(pg));
}

void Worker::verify(Slot& s, std::uint32_t p) {
  const Page& pg = s.pages[p];
  std::byte* addr = page_addr(s, p);
  const int want = expected_fault(pg, false);
  const Fault f = guarded_copy(addr, buf_.data());
  if (f.signo != 0 || want != 0) {
    if (f.signo == SIGSEGV && f.code == want && f.addr == reinterpret_cast<std::uintptr_t>(addr)) {
      ++counts_.segv_checks;
      return;
    }
    fail_fault("read", addr, pg, want, f);
  }
  if (const auto m = compare_page(pg, buf_.data()))
    fail("read at " + hex(reinterpret_cast<std::uintptr_t>(addr)) + ": word " +
         std::to_string(m->word) + " (address " +
         hex(reinterpret_cast<std::uintptr_t>(addr) + m->word * 8) + "): expected " +
         hex(m->expected) + ", found " + hex(m->found) + "\n  model: " + describe(pg));
  ++counts_.pages_verified;
}

bool Worker::write_page(Slot& s, std::uint32_t p) {
  Page& pg = s.pages[p];
  std::byte* addr = page_addr(s, p);
  const int want = expected_fault(pg, true);
  const std::uint64_t version = next_id();
  const Fault f = guarded_fill(addr, pg.gen, pg.off, version);
  if (f.signo != 0 || want != 0) {
    if (f.signo == SIGSEGV && f.code == want && f.addr == reinterpret_cast<std::uintptr_t>(addr)) {
      ++counts_.segv_checks;
      return false;
    }
    fail_fault("write", addr, pg, want, f);
  }
  const bool inject = (sh_.opt.inject == Inject::kStale || sh_.opt.inject == Inject::kWord) &&
                      !sh_.injected.exchange(true);
  if (inject && sh_.opt.inject == Inject::kWord) {
    auto* word = reinterpret_cast<volatile std::uint64_t*>(addr) + kWordsPerPage / 2;
    *word = *word ^ 0x100;
  }
  if (!(inject && sh_.opt.inject == Inject::kStale)) {
    pg.version = version;
    pg.content = Content::kPattern;
  }
  if (inject) verify(s, p);  // so that the injected fault is always caught
  return true;
}

// ---- helpers

std::optional<std::uint32_t> Worker::find_mapped(const Slot& s, std::uint32_t from) const {
  for (std::uint32_t i = 0; i < sh_.npages; ++i) {
    const std::uint32_t p = (from + i) % sh_.npages;
    if (s.pages[p].mapped()) return p;
  }
  return std::nullopt;
}

template <class Pred>
Range Worker::mapped_run(const Slot& s, std::uint32_t first, std::uint32_t max, Pred ok) const {
  std::uint32_t n = 0;
  while (n < max && first + n < sh_.npages && s.pages[first + n].mapped() && ok(s.pages[first + n]))
    ++n;
  return {first, n};
}

Range Worker::vma_run(const Slot& s, std::uint32_t p) const {
  const std::uint64_t id = s.pages[p].vma;
  std::uint32_t a = p, b = p + 1;
  while (a > 0 && s.pages[a - 1].mapped() && s.pages[a - 1].vma == id) --a;
  while (b < sh_.npages && s.pages[b].mapped() && s.pages[b].vma == id) ++b;
  return {a, b - a};
}

void Worker::renumber(Slot& s) {
  std::vector<std::uint64_t> seen;
  std::uint32_t p = 0;
  while (p < sh_.npages) {
    if (!s.pages[p].mapped()) {
      ++p;
      continue;
    }
    const Range r = vma_run(s, p);
    const std::uint64_t id = s.pages[p].vma;
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) {
      const std::uint64_t fresh = next_id();
      for (std::uint32_t i = r.first; i < r.first + r.count; ++i) s.pages[i].vma = fresh;
    } else {
      seen.push_back(id);
    }
    p = r.first + r.count;
  }
}

// ---- operations

void Worker::op_read(const Draw& d) {
  Slot& s = slot(cur_.slot);
  const std::uint32_t p = d.below(2, sh_.npages);
  const std::uint32_t n = std::min<std::uint32_t>(1 + d.below(3, 4), sh_.npages - p);
  cur_.page = p;
  cur_.pages = n;
  cur_.addr = reinterpret_cast<std::uintptr_t>(page_addr(s, p));
  const std::scoped_lock lock(s.mu);
  for (std::uint32_t i = p; i < p + n; ++i) verify(s, i);
}

void Worker::op_write(const Draw& d) {
  Slot& s = slot(cur_.slot);
  const std::uint32_t p = d.below(2, sh_.npages);
  const std::uint32_t n = std::min<std::uint32_t>(1 + d.below(3, 4), sh_.npages - p);
  cur_.page = p;
  cur_.pages = n;
  cur_.addr = reinterpret_cast<std::uintptr_t>(page_addr(s, p));
  const std::scoped_lock lock(s.mu);
  bool any = false;
  for (std::uint32_t i = p; i < p + n; ++i) any |= write_page(s, i);
  if (any) changed(s);
  verify(s, p);  // read back
}

// Reads one word of a slot without holding its lock.  The lock is taken
// briefly before and after to snapshot the page's model and the slot's
// change counter: with no change in between the read must match the first
// snapshot exactly; across exactly one change (one operation, which moves
// each page from one model state to the next with no other state visible)
// it must match one of the two; across more it is not checked.
void Worker::op_racy_read(const Draw& d) {
  Slot& s = slot(cur_.slot);
  const std::uint32_t p = d.below(2, sh_.npages);
  const std::uint32_t w = d.below(3, kWordsPerPage);
  std::byte* addr = page_addr(s, p) + w * sizeof(std::uint64_t);
  cur_.page = p;
  cur_.pages = 1;
  cur_.addr = reinterpret_cast<std::uintptr_t>(addr);
  cur_.arg = w;
  Page before, after;
  std::uint64_t c0 = 0, c1 = 0;
  {
    const std::scoped_lock lock(s.mu);
    before = s.pages[p];
    c0 = s.changes.load(std::memory_order_relaxed);
  }
  // Several reads widen the window in which a concurrent operation can hit.
  struct Read {
    Fault fault;
    std::uint64_t value = 0;
  };
  std::array<Read, kRacyReads> reads;
  for (Read& r : reads) r.fault = guarded_load(addr, &r.value);
  {
    const std::scoped_lock lock(s.mu);
    after = s.pages[p];
    c1 = s.changes.load(std::memory_order_relaxed);
  }
  if (c1 - c0 > 1) {
    ++counts_.racy_unchecked;
    return;
  }
  auto legal = [addr, w](const Page& pg, const Read& r) {
    const int want = expected_fault(pg, false);
    if (r.fault.signo != 0 || want != 0)
      return r.fault.signo == SIGSEGV && r.fault.code == want &&
             r.fault.addr == reinterpret_cast<std::uintptr_t>(addr);
    return word_allowed(pg, w, r.value);
  };
  // Each read must fit the state before or after the change, and once one
  // fits only the state after, no later read may go back.
  bool only_after_seen = false;
  for (std::size_t i = 0; i < reads.size(); ++i) {
    const Read& r = reads[i];
    const bool b = legal(before, r), a = c1 != c0 && legal(after, r);
    if ((b && !only_after_seen) || a) {
      only_after_seen |= !b;
      if (r.fault.signo != 0) ++counts_.segv_checks;
      continue;
    }
    const std::string found = r.fault.signo != 0
                                  ? std::string(fault_name(r.fault.signo, r.fault.code)) +
                                        " at si_addr " + hex(r.fault.addr)
                                  : "value " + hex(r.value);
    auto word_of = [w](const Page& pg) {
      return pg.mapped() && pg.content != Content::kZero
                 ? " (word " + hex(pattern_word(pg.gen, pg.off, pg.version, w)) + ")"
                 : std::string();
    };
    fail("racy read " + std::to_string(i) + " of word " + std::to_string(w) + " at " +
         hex(reinterpret_cast<std::uintptr_t>(addr)) + " across " + std::to_string(c1 - c0) +
         " change(s) of the slot: found " + found +
         (only_after_seen && b ? " (the state before, after the state after was seen)" : "") +
         "\n  model before: " + describe(before) + word_of(before) +
         "\n  model after:  " + describe(after) + word_of(after));
  }
  ++(c1 == c0 ? counts_.racy_exact : counts_.racy_one_op);
}

void Worker::op_mmap(const Draw& d) {
  Slot& s = slot(cur_.slot);
  const std::uint32_t p = d.below(2, sh_.npages);
  const std::uint32_t n = 1 + d.below(3, sh_.npages - p);
  const std::uint32_t k = d.below(4, 100);
  const Kind kind = k < 70 ? Kind::kPrivate : k < 85 ? Kind::kSharedAnon : Kind::kMemfd;
  const std::uint32_t q = d.below(5, 100);
  const int prot = q < 80 ? PROT_READ | PROT_WRITE : q < 90 ? PROT_READ : PROT_NONE;
  cur_.page = p;
  cur_.pages = n;
  cur_.addr = reinterpret_cast<std::uintptr_t>(page_addr(s, p));
  cur_.arg = static_cast<std::uint32_t>(kind) << 8 | static_cast<std::uint32_t>(prot);

  const std::scoped_lock lock(s.mu);
  map_range(s, p, n, kind, prot);
  changed(s);
  verify(s, p + d.below(6, n));
}

void Worker::map_range(Slot& s, std::uint32_t p, std::uint32_t n, Kind kind, int prot) {
  std::byte* addr = page_addr(s, p);
  const std::size_t len = std::size_t{n} * kPageSize;
  bool replace = false;
  for (std::uint32_t i = p; i < p + n; ++i) replace |= s.pages[i].mapped();
  const int fixed = replace ? MAP_FIXED : MAP_FIXED_NOREPLACE;
  void* got = MAP_FAILED;
  if (kind == Kind::kMemfd) {
    const FileDescriptor fd(::memfd_create("mmscale-torture", MFD_CLOEXEC));
    if (!fd) fail_sys("memfd_create", errno);
    if (::ftruncate(fd.get(), static_cast<off_t>(len)) != 0) fail_sys("ftruncate", errno);
    got = ::mmap(addr, len, prot, MAP_SHARED | fixed, fd.get(), 0);
  } else {
    const int share = kind == Kind::kPrivate ? MAP_PRIVATE : MAP_SHARED;
    got = ::mmap(addr, len, prot, share | MAP_ANONYMOUS | fixed, -1, 0);
  }
  if (got == MAP_FAILED) fail_sys(replace ? "mmap MAP_FIXED" : "mmap MAP_FIXED_NOREPLACE", errno);
  if (got != addr) fail("mmap returned " + hex(reinterpret_cast<std::uintptr_t>(got)));
  const std::uint64_t gen = next_id(), vma = next_id();
  for (std::uint32_t i = 0; i < n; ++i)
    s.pages[p + i] = Page{gen, 0, vma, i, static_cast<std::uint8_t>(prot), kind, Content::kZero};
  renumber(s);
}

void Worker::op_munmap(const Draw& d) {
  Slot& s = slot(cur_.slot);
  const std::uint32_t p = d.below(2, sh_.npages);
  const std::uint32_t n = 1 + d.below(3, std::min(sh_.npages - p, 16U));
  cur_.page = p;
  cur_.pages = n;
  cur_.addr = reinterpret_cast<std::uintptr_t>(page_addr(s, p));
  const std::scoped_lock lock(s.mu);
  if (::munmap(page_addr(s, p), std::size_t{n} * kPageSize) != 0) fail_sys("munmap", errno);
  unmap_model(s, {p, n});
  changed(s);
  verify(s, p + d.below(6, n));  // SIGSEGV/SEGV_MAPERR
}

void Worker::op_mprotect(const Draw& d) {
  Slot& s = slot(cur_.slot);
  const std::uint32_t q = d.below(5, 100);
  const int prot = q < 60 ? PROT_READ | PROT_WRITE : q < 85 ? PROT_READ : PROT_NONE;
  cur_.arg = static_cast<std::uint32_t>(prot);
  const std::scoped_lock lock(s.mu);
  const auto start = find_mapped(s, d.below(2, sh_.npages));
  if (!start) return;
  const Range r = mapped_run(s, *start, 1 + d.below(3, 16), [](const Page&) { return true; });
  std::byte* addr = page_addr(s, r.first);
  cur_.page = r.first;
  cur_.pages = r.count;
  cur_.addr = reinterpret_cast<std::uintptr_t>(addr);
  if (::mprotect(addr, std::size_t{r.count} * kPageSize, prot) != 0) fail_sys("mprotect", errno);
  protect_model(s, r, prot);
  changed(s);
  verify(s, r.first + d.below(6, r.count));
}

void Worker::protect_model(Slot& s, Range r, int prot) {
  // The range is split off into VMAs of its own: fresh ids, one per old id.
  std::map<std::uint64_t, std::uint64_t> fresh;
  for (std::uint32_t i = r.first; i < r.first + r.count; ++i) {
    Page& pg = s.pages[i];
    auto [it, inserted] = fresh.try_emplace(pg.vma, 0);
    if (inserted) it->second = next_id();
    pg.vma = it->second;
    pg.prot = static_cast<std::uint8_t>(prot);
  }
  renumber(s);
}

void Worker::unmap_model(Slot& s, Range r) {
  for (std::uint32_t i = r.first; i < r.first + r.count; ++i) s.pages[i] = Page{};
  renumber(s);
}

void Worker::op_madvise(const Draw& d, Op op) {
  Slot& s = slot(cur_.slot);
  const std::scoped_lock lock(s.mu);
  const auto start = find_mapped(s, d.below(2, sh_.npages));
  if (!start) return;
  // MADV_FREE is for private anonymous memory only (EINVAL elsewhere).
  const Range r = mapped_run(s, *start, 1 + d.below(3, 16), [op](const Page& pg) {
    return op != Op::kFree || pg.kind == Kind::kPrivate;
  });
  if (r.count == 0) return;
  std::byte* addr = page_addr(s, r.first);
  cur_.page = r.first;
  cur_.pages = r.count;
  cur_.addr = reinterpret_cast<std::uintptr_t>(addr);
  const int advice = op == Op::kDontneed ? MADV_DONTNEED
                     : op == Op::kFree   ? MADV_FREE
                                         : MADV_WILLNEED;
  if (::madvise(addr, std::size_t{r.count} * kPageSize, advice) != 0) fail_sys("madvise", errno);
  if (op != Op::kWillneed) {
    for (std::uint32_t i = r.first; i < r.first + r.count; ++i) {
      Page& pg = s.pages[i];
      if (pg.kind != Kind::kPrivate) continue;  // shared memory keeps its contents
      if (op == Op::kDontneed)
        pg.content = Content::kZero;
      else if (pg.content == Content::kPattern)
        pg.content = Content::kPatternOrZero;
    }
    changed(s);
  }
  verify(s, r.first + d.below(6, r.count));
}

void Worker::op_mremap(const Draw& d, Op op) {
  Slot& s = slot(cur_.slot);
  std::uint32_t dst_index = cur_.slot;
  if (op == Op::kMove) {
    dst_index = d.below(4, sh_.opt.mappings - 1);
    if (dst_index >= cur_.slot) ++dst_index;
    cur_.slot2 = dst_index;
  }
  Slot& t = slot(dst_index);
  // One slot, or both in address order (std::scoped_lock avoids deadlock).
  std::unique_lock<std::mutex> l1(s.mu, std::defer_lock), l2;
  if (&t != &s) {
    l2 = std::unique_lock<std::mutex>(t.mu, std::defer_lock);
    std::lock(l1, l2);
  } else {
    l1.lock();
  }
  const auto start = find_mapped(s, d.below(2, sh_.npages));
  if (!start) return;
  const Range r = vma_run(s, *start);
  const Page head = s.pages[r.first];
  std::byte* addr = page_addr(s, r.first);
  const std::size_t old_len = std::size_t{r.count} * kPageSize;
  cur_.page = r.first;
  cur_.addr = reinterpret_cast<std::uintptr_t>(addr);

  if (op == Op::kShrink) {
    if (r.count < 2) return;
    const std::uint32_t keep = 1 + d.below(3, r.count - 1);
    cur_.pages = r.count;
    cur_.arg = keep;
    void* got = ::mremap(addr, old_len, std::size_t{keep} * kPageSize, 0);
    if (got == MAP_FAILED) fail_sys("mremap (shrink)", errno);
    if (got != addr) fail("mremap (shrink) moved the mapping");
    for (std::uint32_t i = r.first + keep; i < r.first + r.count; ++i) s.pages[i] = Page{};
    changed(s);
    verify(s, r.first + keep);  // SIGSEGV/SEGV_MAPERR
    verify(s, r.first + keep - 1);
    return;
  }
  if (op == Op::kGrow) {
    // Private anonymous only: a shared object does not grow with its mapping.
    if (head.kind != Kind::kPrivate) return;
    std::uint32_t room = 0;
    const std::uint32_t end = r.first + r.count;
    while (end + room < sh_.npages && !s.pages[end + room].mapped()) ++room;
    if (room == 0) return;
    const std::uint32_t add = 1 + d.below(3, room);
    cur_.pages = r.count;
    cur_.arg = r.count + add;
    void* got = ::mremap(addr, old_len, old_len + std::size_t{add} * kPageSize, 0);
    if (got == MAP_FAILED) fail_sys("mremap (grow in place)", errno);
    if (got != addr) fail("mremap (grow) moved the mapping");
    const Page& last = s.pages[end - 1];
    for (std::uint32_t i = 0; i < add; ++i)
      s.pages[end + i] =
          Page{head.gen, 0, head.vma, last.off + 1 + i, head.prot, Kind::kPrivate, Content::kZero};
    changed(s);
    verify(s, end + d.below(6, add));
    return;
  }
  // Move the run over whatever the destination slot holds there.
  const std::uint32_t dp = d.below(5, sh_.npages - r.count + 1);
  std::byte* dst = page_addr(t, dp);
  cur_.pages = r.count;
  cur_.arg = dp;
  void* got = ::mremap(addr, old_len, old_len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
  if (got == MAP_FAILED) fail_sys("mremap (move)", errno);
  if (got != dst) fail("mremap (move) returned " + hex(reinterpret_cast<std::uintptr_t>(got)));
  for (std::uint32_t i = 0; i < r.count; ++i) {
    t.pages[dp + i] = s.pages[r.first + i];
    s.pages[r.first + i] = Page{};
  }
  renumber(t);
  changed(s);
  changed(t);
  const std::uint32_t k = d.below(6, r.count);
  verify(s, r.first + k);  // SIGSEGV/SEGV_MAPERR
  verify(t, dp + k);       // the moved contents
}

void Worker::op_fork(const Draw& d) {
  Slot& s = slot(cur_.slot);
  const std::uint32_t n = std::min<std::uint32_t>(kForkSamples, sh_.npages);
  const std::uint32_t p = d.below(2, sh_.npages - n + 1);
  cur_.page = p;
  cur_.pages = n;
  cur_.addr = reinterpret_cast<std::uintptr_t>(page_addr(s, p));
  const std::scoped_lock lock(s.mu);
  std::array<Sample, kForkSamples> samples;
  for (std::uint32_t i = 0; i < n; ++i) samples[i] = {page_addr(s, p + i), s.pages[p + i]};
  auto* report = reinterpret_cast<ChildReport*>(report_.data());
  *report = ChildReport{};
  const pid_t pid = ::fork();
  if (pid < 0) fail_sys("fork", errno);
  if (pid == 0) ::_exit(child_check(std::span(samples).first(n), report));
  // The parent writes on while the child checks its copy-on-write view.
  bool any = false;
  for (std::uint32_t i = 0; i < n; ++i)
    if (s.pages[p + i].kind == Kind::kPrivate) any |= write_page(s, p + i);
  if (any) changed(s);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail_sys("waitpid", errno);
  ++counts_.forks;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string what = "forked child (pid " + std::to_string(pid) + ") ";
    if (WIFSIGNALED(status)) {
      what += "killed by signal " + std::to_string(WTERMSIG(status));
    } else if (WEXITSTATUS(status) == 1 || WEXITSTATUS(status) == 2) {
      const ChildReport rep = *report;
      const Sample& smp = samples[std::min<std::uint32_t>(rep.sample, n - 1)];
      what += "saw a wrong COW view at " + hex(reinterpret_cast<std::uintptr_t>(smp.addr));
      if (WEXITSTATUS(status) == 1)
        what += ": word " + std::to_string(rep.word) + ": expected " + hex(rep.expected) +
                ", found " + hex(rep.found);
      else
        what += ": expected " + std::string(fault_name(SIGSEGV, expected_fault(smp.page, false))) +
                ", got " + fault_name(rep.signo, rep.code) + " at si_addr " + hex(rep.addr);
      what += "\n  model at fork time: " + describe(smp.page);
    } else {
      what += "exited with status " + std::to_string(WEXITSTATUS(status));
    }
    fail(what);
  }
  counts_.child_pages += n;
  // The child's writes must not show here.
  for (std::uint32_t i = 0; i < n; ++i) verify(s, p + i);
}

void Worker::op_hold(const Draw& d) {
  unsigned mode = d.below(2, sh_.hold_range ? 4 : 2);
  static constexpr std::array<std::uint32_t, 4> kModes{
      MMSCALE_HOLD_READ, MMSCALE_HOLD_WRITE, MMSCALE_HOLD_RANGE_READ, MMSCALE_HOLD_RANGE_WRITE};
  mmscale_hold h{};
  h.mode = kModes[mode];
  h.hold_ms = 1 + d.below(3, 4);
  if (mode >= 2) {
    const Slot& s = slot(cur_.slot);
    h.start = reinterpret_cast<std::uintptr_t>(s.base);
    h.end = h.start + std::uint64_t{sh_.npages} * kPageSize;
  }
  cur_.arg = h.mode << 16 | h.hold_ms;
  cur_.addr = h.start;
  if (::ioctl(sh_.ctl.get(), MMSCALE_IOC_HOLD, &h) != 0) {
    if (errno != EOPNOTSUPP) fail_sys("ioctl MMSCALE_IOC_HOLD", errno);
    ++counts_.holds_unsupported;
    return;
  }
  if (h.release_ns < h.acquire_ns) fail("MMSCALE_IOC_HOLD: release before acquire");
  ++counts_.holds;
}

// A race (see "races" above).  It holds the slot's lock throughout, so that
// no other operation sees the racers' writes, and leaves an exact model
// behind: the raced pages emptied again, the holes the change made mapped
// afresh.
void Worker::op_race(const Draw& d) {
  Slot& s = slot(cur_.slot);
  Rng more(d.v[7]);  // the race's further choices
  const std::scoped_lock lock(s.mu);
  // Counted as two changes: a racy read across a race is not checked, as in
  // between the racers write values that are no model state.
  s.changes.fetch_add(2, std::memory_order_relaxed);
  const Range r = race_range(s, d);
  const RacePlan plan = plan_race(d, r, more);
  cur_.page = r.first;
  cur_.pages = r.count;
  cur_.addr = reinterpret_cast<std::uintptr_t>(page_addr(s, r.first));
  cur_.arg = static_cast<std::uint32_t>(plan.change) | plan.first << 8 | plan.count << 16;
  cur_.slot2 = plan.dest;
  arm_race(s, r, plan);
  team_.start(job_, more.next());
  RaceGuard guard(team_, job_);
  // The change comes once every racer runs and some of the pages, not all,
  // took their first fault: while faults are in flight.
  const auto deadline = std::chrono::steady_clock::now() + kRaceWait;
  while ((job_.running.load(std::memory_order_relaxed) < team_.size() ||
          job_.faulted.load(std::memory_order_relaxed) < plan.target) &&
         team_.finished() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  if (plan.storm) {
    // Racer writes that this zaps are lost: check_race() relaxes its check
    // of the pages that no racer writes again after the change.
    if (::madvise(page_addr(s, r.first), std::size_t{r.count} * kPageSize, MADV_DONTNEED) != 0)
      fail_sys("madvise MADV_DONTNEED", errno);
    ++counts_.race_storms;
  }
  job_.phase.store(Phase::kChanging);
  const pid_t child = race_change(s, r, plan);
  job_.phase.store(Phase::kDone);
  guard.wait();
  end_race(child);
  check_race(s, r, plan);
  ++counts_.races[static_cast<std::size_t>(plan.change)];
}

// The race's pages: a run of private read/write pages of one VMA from a
// drawn page on (whose anon_vma exists already), or else a fresh private
// mapping.
Range Worker::race_range(Slot& s, const Draw& d) {
  const std::uint32_t want = 1 + d.below(3, std::min(kMaxRacePages, sh_.npages));
  const std::uint32_t from = d.below(2, sh_.npages);
  const auto p = find_mapped(s, from);
  if (p && s.pages[*p].kind == Kind::kPrivate && s.pages[*p].prot == (PROT_READ | PROT_WRITE)) {
    const Range v = vma_run(s, *p);
    return {*p, std::min(want, v.first + v.count - *p)};
  }
  const std::uint32_t first = std::min(from, sh_.npages - want);
  map_range(s, first, want, Kind::kPrivate, PROT_READ | PROT_WRITE);
  changed(s);
  return {first, want};
}

RacePlan Worker::plan_race(const Draw& d, Range r, Rng& more) const {
  RacePlan plan;
  const std::uint32_t n = r.count;
  // A move goes to a place in the slot that does not overlap the range.
  const std::uint32_t left = r.first >= n ? r.first - n + 1 : 0;
  const std::uint32_t right_first = r.first + n;
  const std::uint32_t right = sh_.npages >= right_first + n ? sh_.npages - right_first - n + 1 : 0;
  plan.change = static_cast<RaceChange>(d.below(4, kRaceChangeCount));
  if ((plan.change == RaceChange::kMove && left + right == 0) ||
      (plan.change == RaceChange::kShrink && n < 2) ||
      (plan.change == RaceChange::kFork && !sh_.opt.fork))
    plan.change = RaceChange::kMunmap;
  switch (plan.change) {
    case RaceChange::kMove: {
      const std::uint32_t i = d.below(5, left + right);
      plan.dest = i < left ? i : right_first + (i - left);
      plan.count = n;
      break;
    }
    case RaceChange::kShrink:
      plan.first = 1 + d.below(5, n - 1);
      plan.count = n - plan.first;
      break;
    case RaceChange::kFork:
    case RaceChange::kPageout:
      break;
    default:
      plan.first = d.below(5, n);
      plan.count = 1 + d.below(6, n - plan.first);
      break;
  }
  const std::uint64_t k = more.next() % 100;
  plan.kind = k < 60 ? Kind::kPrivate : k < 80 ? Kind::kSharedAnon : Kind::kMemfd;
  plan.prot = more.next() % 4 == 0 ? PROT_NONE : PROT_READ;
  plan.target = static_cast<std::uint32_t>(more.next() % n);
  plan.storm = more.next() % 2 == 0;
  return plan;
}

// A first write gives a fresh VMA its anon_vma (so that the racers' faults
// can go speculative); then the pages are emptied, so that the first racer
// write into each of them faults.
void Worker::arm_race(Slot& s, Range r, const RacePlan& plan) {
  std::byte* base = page_addr(s, r.first);
  const Fault f = guarded_store(base, 0);
  if (f.signo != 0) fail_fault("write", base, s.pages[r.first], 0, f);
  if (::madvise(base, std::size_t{r.count} * kPageSize, MADV_DONTNEED) != 0)
    fail_sys("madvise MADV_DONTNEED", errno);
  RaceRange& rr = job_.range;
  rr.base = base;
  rr.pages = r.count;
  rr.race = next_id();
  rr.racers = team_.size();
  for (std::uint32_t i = 0; i < r.count; ++i) {
    Page& pg = s.pages[r.first + i];
    pg.content = Content::kZero;  // until the racers write: check_race knows better
    rr.gen[i] = pg.gen;
    rr.off[i] = pg.off;
  }
  job_.changed_first = plan.first;
  job_.changed_count = plan.count;
  job_.segv_code = race_segv_code(plan.change);
  for (std::atomic<bool>& t : job_.touched) t.store(false, std::memory_order_relaxed);
  job_.faulted.store(0, std::memory_order_relaxed);
  job_.running.store(0, std::memory_order_relaxed);
}

// Makes @plan's change to the range @r of @s and models it; returns the
// child's pid after a fork (the child checks and exits), else 0.
pid_t Worker::race_change(Slot& s, Range r, const RacePlan& plan) {
  std::byte* base = page_addr(s, r.first);
  const std::size_t len = std::size_t{r.count} * kPageSize;
  const Range part{r.first + plan.first, plan.count};
  std::byte* at = page_addr(s, part.first);
  const std::size_t part_len = std::size_t{part.count} * kPageSize;
  switch (plan.change) {
    case RaceChange::kMunmap:
      if (::munmap(at, part_len) != 0) fail_sys("munmap", errno);
      unmap_model(s, part);
      break;
    case RaceChange::kProtRead:
    case RaceChange::kProtNone: {
      const int prot = plan.change == RaceChange::kProtRead ? PROT_READ : PROT_NONE;
      if (::mprotect(at, part_len, prot) != 0) fail_sys("mprotect", errno);
      protect_model(s, part, prot);
      break;
    }
    case RaceChange::kMapFixed:
      map_range(s, part.first, part.count, plan.kind, plan.prot);
      break;
    case RaceChange::kMove: {
      std::byte* dst = page_addr(s, plan.dest);
      void* got = ::mremap(base, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
      if (got == MAP_FAILED) fail_sys("mremap (move)", errno);
      if (got != dst) fail("mremap (move) returned " + hex(reinterpret_cast<std::uintptr_t>(got)));
      // The moved pages are a VMA of their own (they may have moved into
      // their old VMA's run, with which the kernel does not merge them).
      const std::uint64_t vma = next_id();
      for (std::uint32_t i = 0; i < r.count; ++i) {
        s.pages[plan.dest + i] = s.pages[r.first + i];
        s.pages[plan.dest + i].vma = vma;
        s.pages[r.first + i] = Page{};
      }
      renumber(s);
      break;
    }
    case RaceChange::kShrink: {
      void* got = ::mremap(base, len, std::size_t{plan.first} * kPageSize, 0);
      if (got == MAP_FAILED) fail_sys("mremap (shrink)", errno);
      if (got != base) fail("mremap (shrink) moved the mapping");
      unmap_model(s, part);
      break;
    }
    case RaceChange::kFork: {
      auto* report = reinterpret_cast<ChildReport*>(report_.data());
      *report = ChildReport{};
      const pid_t pid = ::fork();
      if (pid < 0) fail_sys("fork", errno);
      if (pid == 0) ::_exit(race_child_check(job_.range, report));
      return pid;
    }
    case RaceChange::kPageout:
      // EINVAL: a kernel without MADV_PAGEOUT (< 5.4); a race without a change.
      if (::madvise(base, len, MADV_PAGEOUT) != 0 && errno != EINVAL)
        fail_sys("madvise MADV_PAGEOUT", errno);
      break;
    case RaceChange::kCount:
      break;
  }
  changed(s);
  return 0;
}

// Adds up the racers' counts and fails on what a racer or a forked child
// (reaped here) saw.
void Worker::end_race(pid_t child) {
  int status = 0;
  if (child > 0)
    while (::waitpid(child, &status, 0) < 0)
      if (errno != EINTR) fail_sys("waitpid", errno);
  for (unsigned k = 0; k < team_.size(); ++k) {
    const RacerResult& res = team_.result(k);
    counts_.racer_writes += res.writes;
    counts_.racer_faults += res.faults;
    counts_.racer_segvs += res.segvs;
    counts_.racer_overlaps += res.overlaps;
    if (!res.failure.empty()) fail("race: " + res.failure);
  }
  if (child <= 0 || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) return;
  const RaceRange& r = job_.range;
  const ChildReport rep = *reinterpret_cast<const ChildReport*>(report_.data());
  const std::uint32_t i = std::min(rep.sample, r.pages - 1);
  const std::string page = "page " + std::to_string(i) + " of the range (" +
                           hex(reinterpret_cast<std::uintptr_t>(r.page(i))) + ")";
  std::string what = "race: forked child (pid " + std::to_string(child) + ") ";
  if (WIFSIGNALED(status))
    what += "killed by signal " + std::to_string(WTERMSIG(status));
  else if (WEXITSTATUS(status) == 1)
    what += "saw in word " + std::to_string(rep.word) + " of " + page + ": expected zero" +
            " or a value of that word's racer, found " + hex(rep.found) + ": " +
            explain_race_value(r, i, rep.found, 0);
  else if (WEXITSTATUS(status) == 2)
    what += "got " + std::string(fault_name(rep.signo, rep.code)) + " at si_addr " + hex(rep.addr) +
            " in " + page;
  else if (WEXITSTATUS(status) == 3)
    what += "saw its copy of " + page +
            " change while the parent's racers wrote on (a copy-on-write that did not happen)";
  else
    what += "exited with status " + std::to_string(WEXITSTATUS(status));
  fail(what);
}

// After a race: the pages still of the raced object hold exactly the
// racers' last writes, the others what the change made of them (unmapped,
// or a fresh mapping: zero), and no page that the change left read-only or
// PROT_NONE can be written.  Then the holes are mapped afresh and the raced
// pages emptied again, so that the model is exact again.
void Worker::check_race(Slot& s, Range r, const RacePlan& plan) {
  const std::uint32_t at = plan.change == RaceChange::kMove ? plan.dest : r.first;
  for (std::uint32_t i = 0; i < r.count; ++i) {
    const Page& pg = s.pages[at + i];
    if (!pg.mapped()) continue;  // refill_holes()
    if (pg.gen == job_.range.gen[i] && pg.off == job_.range.off[i] && pg.prot != PROT_NONE)
      check_raced(i, page_addr(s, at + i), pg, plan.storm && job_.changed(i));
    else
      verify(s, at + i);
    if ((pg.prot & PROT_WRITE) == 0) probe_write(s, at + i);
  }
  refill_holes(s, r);
  std::byte* addr = page_addr(s, at);
  if (::madvise(addr, std::size_t{r.count} * kPageSize, MADV_DONTNEED) != 0)
    fail_sys("madvise MADV_DONTNEED", errno);
  for (std::uint32_t p = at; p < at + r.count; ++p)
    if (s.pages[p].kind == Kind::kPrivate) s.pages[p].content = Content::kZero;
  changed(s);
  for (std::uint32_t p = at; p < at + r.count; ++p) verify(s, p);
}

// Page @i of the race, now at @addr: each racer's word holds exactly the
// last value that racer wrote there (zero if none), every other word zero
// (the page was emptied, and a forked child's write must not show).  When
// @stormed, the page was emptied under the racers and none wrote it after
// the change (it moved, or lost write permission): a racer's word then
// holds zero or any value of that racer for this page and race.
void Worker::check_raced(std::uint32_t i, std::byte* addr, const Page& pg, bool stormed) {
  const RaceRange& r = job_.range;
  if (sh_.opt.inject == Inject::kRace && (pg.prot & PROT_WRITE) != 0 &&
      !sh_.injected.exchange(true)) {
    // What a fault through a stale translation leaves: another page's value.
    const std::size_t w = racer_word_index(0);
    guarded_store(addr + w * sizeof(std::uint64_t),
                  racer_word(r.gen[i], r.off[i] + 1, r.race, w, 1));
  }
  std::array<std::uint64_t, kWordsPerPage> want{};
  for (unsigned k = 0; k < r.racers; ++k) want[racer_word_index(k)] = team_.result(k).last[i];
  const Fault f = guarded_copy(addr, buf_.data());
  if (f.signo != 0) fail_fault("read", addr, pg, 0, f);
  for (std::size_t w = 0; w < kWordsPerPage; ++w) {
    if (buf_[w] == want[w]) continue;
    if (stormed && racer_of_word(w, r.racers) &&
        (buf_[w] == 0 || r.of_racer(i, *racer_of_word(w, r.racers), buf_[w])))
      continue;
    const auto a = reinterpret_cast<std::uintptr_t>(addr);
    fail("race: page " + std::to_string(i) + " of the range, now at " + hex(a) + ": word " +
         std::to_string(w) + " (address " + hex(a + w * 8) + "): expected " + hex(want[w]) +
         (want[w] != 0 ? " (its racer's last write)" : "") + ", found " + hex(buf_[w]) + ": " +
         explain_race_value(r, i, buf_[w], want[w]) + "\n  model: " + describe(pg) +
         " (emptied before the race)");
  }
  ++counts_.pages_verified;
}

// Maps the holes that the change left in @r afresh (private, read/write):
// they must read zero, where a PTE that a fault through the stale VMA
// installed after the unmap would show the racers' data.
void Worker::refill_holes(Slot& s, Range r) {
  const std::uint32_t end = r.first + r.count;
  for (std::uint32_t p = r.first; p < end;) {
    if (s.pages[p].mapped()) {
      ++p;
      continue;
    }
    std::uint32_t q = p;
    while (q < end && !s.pages[q].mapped()) ++q;
    for (std::uint32_t i = p; i < q; ++i) verify(s, i);  // SIGSEGV/SEGV_MAPERR
    map_range(s, p, q - p, Kind::kPrivate, PROT_READ | PROT_WRITE);
    for (std::uint32_t i = p; i < q; ++i) verify(s, i);  // zero
    p = q;
  }
}

// A write into a page that the race left read-only or PROT_NONE must fault:
// a writable PTE that a fault through the stale VMA installed would let it
// through.
void Worker::probe_write(Slot& s, std::uint32_t p) {
  const Page& pg = s.pages[p];
  std::byte* addr = page_addr(s, p) + racer_word_index(0) * sizeof(std::uint64_t);
  const int want = expected_fault(pg, true);
  const Fault f = guarded_store(addr, 0);
  if (f.signo == SIGSEGV && f.code == want && f.addr == reinterpret_cast<std::uintptr_t>(addr)) {
    ++counts_.segv_checks;
    return;
  }
  fail_fault("write", addr, pg, want, f);
}

// Starts every slot with one private read/write mapping over its first half,
// with generation and VMA ids from @id_space (one that no thread uses).
void populate(Shared& sh, std::uint64_t id_space) {
  const std::uint32_t n = std::max(1U, sh.npages / 2);
  std::uint64_t ids = 0;
  for (unsigned i = 0; i < sh.opt.mappings; ++i) {
    Slot& s = sh.slots[i];
    void* p = ::mmap(s.base, std::size_t{n} * kPageSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED) throw_errno("mmap (initial mapping)");
    if (p != s.base) {  // a kernel without MAP_FIXED_NOREPLACE, and the range taken
      ::munmap(p, std::size_t{n} * kPageSize);
      throw SysError("mmap (initial mapping)", EEXIST);
    }
    const std::uint64_t gen = id_space << 40 | ++ids, vma = id_space << 40 | ++ids;
    for (std::uint32_t p = 0; p < n; ++p)
      s.pages[p] = Page{gen, 0, vma, p, PROT_READ | PROT_WRITE, Kind::kPrivate, Content::kZero};
  }
}

// Opens the module's control file if it is there and can hold mmap_lock.
void open_ctl(Shared& sh) {
  const std::string path = sh.opt.ctl.empty() ? MMSCALE_DEBUGFS_CTL : sh.opt.ctl;
  FileDescriptor fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) return;
  mmscale_features f{};
  if (::ioctl(fd.get(), MMSCALE_IOC_FEATURES, &f) != 0 || f.version != MMSCALE_ABI_VERSION ||
      (f.features & MMSCALE_FEAT_HOLD_MMAP_LOCK) == 0)
    return;
  sh.hold = true;
  sh.hold_range = (f.features & MMSCALE_FEAT_MMAP_LOCK_RANGE) != 0;
  sh.ctl = std::move(fd);
}

}  // namespace

// ---------------------------------------------------------------- public

std::uint64_t pattern_word(std::uint64_t gen, std::uint64_t offset, std::uint64_t version,
                           std::size_t index) {
  std::uint64_t h = mix64(gen + 0x9e3779b97f4a7c15ULL);
  h = mix64(h ^ (offset * 0xd6e8feb86659fd93ULL + 1));
  h = mix64(h ^ version);
  h = mix64(h ^ (static_cast<std::uint64_t>(index) + 0xa0761d6478bd642fULL));
  return h | 1;
}

std::uint64_t racer_word(std::uint64_t gen, std::uint64_t offset, std::uint64_t race,
                         std::size_t index, std::uint32_t count) {
  return (pattern_word(gen, offset, race, index) & ~std::uint64_t{0xffffffff}) | count;
}

std::string_view op_name(Op op) {
  static constexpr std::array<std::string_view, kOpCount> kNames{
      "read", "write",    "racy_read", "mmap",     "munmap", "mprotect", "grow", "shrink",
      "move", "dontneed", "free",      "willneed", "fork",   "hold",     "race"};
  const auto i = static_cast<std::size_t>(op);
  return i < kNames.size() ? kNames[i] : "?";
}

std::string_view race_change_name(RaceChange c) {
  static constexpr std::array<std::string_view, kRaceChangeCount> kNames{
      "munmap", "mprotect_read", "mprotect_none", "map_fixed", "move", "shrink", "fork", "pageout"};
  const auto i = static_cast<std::size_t>(c);
  return i < kNames.size() ? kNames[i] : "?";
}

std::string OpRecord::format() const {
  std::string s = "#" + std::to_string(seq) + " " + std::string(op_name(op));
  if (op == Op::kHold) {
    return s + " mode=" + std::to_string(arg >> 16) + " ms=" + std::to_string(arg & 0xffff) +
           (addr != 0 ? " start=" + hex(addr) : "");
  }
  s += " slot " + std::to_string(slot);
  if (pages == 0) return s + " (nothing to act on)";
  s += " pages [" + std::to_string(page) + ", +" + std::to_string(pages) + ") addr " + hex(addr);
  switch (op) {
    case Op::kMmap:
      s += std::string(" kind=") + kind_name(static_cast<Kind>(arg >> 8)) +
           " prot=" + prot_name(static_cast<int>(arg & 0xff));
      break;
    case Op::kMprotect:
      s += " prot=" + prot_name(static_cast<int>(arg));
      break;
    case Op::kGrow:
    case Op::kShrink:
      s += " -> " + std::to_string(arg) + " pages";
      break;
    case Op::kMove:
      s += " -> slot " + std::to_string(slot2) + " page " + std::to_string(arg);
      break;
    case Op::kRacyRead:
      s += " word " + std::to_string(arg);
      break;
    case Op::kRace: {
      const auto c = static_cast<RaceChange>(arg & 0xff);
      const std::uint32_t first = arg >> 8 & 0xff, count = arg >> 16;
      s += " " + std::string(race_change_name(c));
      if (c == RaceChange::kMove)
        s += " -> page " + std::to_string(slot2);
      else if (c == RaceChange::kShrink)
        s += " -> " + std::to_string(first) + " pages";
      else if (count != 0)
        s += " [" + std::to_string(page + first) + ", +" + std::to_string(count) + ")";
      break;
    }
    default:
      break;
  }
  return s;
}

Counts& Counts::operator+=(const Counts& o) {
  for (std::size_t i = 0; i < kOpCount; ++i) ops[i] += o.ops[i];
  skipped += o.skipped;
  pages_verified += o.pages_verified;
  segv_checks += o.segv_checks;
  racy_exact += o.racy_exact;
  racy_one_op += o.racy_one_op;
  racy_unchecked += o.racy_unchecked;
  forks += o.forks;
  child_pages += o.child_pages;
  holds += o.holds;
  holds_unsupported += o.holds_unsupported;
  for (std::size_t i = 0; i < kRaceChangeCount; ++i) races[i] += o.races[i];
  racer_writes += o.racer_writes;
  racer_faults += o.racer_faults;
  racer_segvs += o.racer_segvs;
  racer_overlaps += o.racer_overlaps;
  race_storms += o.race_storms;
  return *this;
}

std::uint64_t Counts::total_ops() const {
  std::uint64_t n = 0;
  for (std::uint64_t v : ops) n += v;
  return n;
}

std::string Summary::to_text() const {
  char line[128];
  std::string t;
  std::snprintf(line, sizeof line, "torture: passed, seed %llu, %u threads, %.2f s, %llu ops\n",
                static_cast<unsigned long long>(seed), threads, seconds,
                static_cast<unsigned long long>(counts.total_ops()));
  t += line;
  for (std::size_t i = 0; i < kOpCount; ++i) {
    std::snprintf(line, sizeof line, "  %-12s %12llu\n",
                  std::string(op_name(static_cast<Op>(i))).c_str(),
                  static_cast<unsigned long long>(counts.ops[i]));
    t += line;
  }
  const std::pair<const char*, std::uint64_t> rows[] = {
      {"skipped", counts.skipped},
      {"pages_verified", counts.pages_verified},
      {"segv_checks", counts.segv_checks},
      {"racy_exact", counts.racy_exact},
      {"racy_one_op", counts.racy_one_op},
      {"racy_unchecked", counts.racy_unchecked},
      {"forks", counts.forks},
      {"child_pages", counts.child_pages},
      {"holds", counts.holds},
      {"holds_unsupported", counts.holds_unsupported},
      {"racer_writes", counts.racer_writes},
      {"racer_faults", counts.racer_faults},
      {"racer_segvs", counts.racer_segvs},
      {"racer_overlaps", counts.racer_overlaps},
      {"race_storms", counts.race_storms},
  };
  for (const auto& [name, v] : rows) {
    std::snprintf(line, sizeof line, "%-18s %12llu\n", name, static_cast<unsigned long long>(v));
    t += line;
  }
  for (std::size_t i = 0; i < kRaceChangeCount; ++i) {
    const std::string name = "race_" + std::string(race_change_name(static_cast<RaceChange>(i)));
    std::snprintf(line, sizeof line, "%-18s %12llu\n", name.c_str(),
                  static_cast<unsigned long long>(counts.races[i]));
    t += line;
  }
  if (!hold_ops) t += "(no hold operations: no usable mmscale control file)\n";
  if (racers == 0) t += "(no race operations: --no-race)\n";
  return t;
}

Json Summary::to_json() const {
  Json ops;
  for (std::size_t i = 0; i < kOpCount; ++i)
    ops.set(std::string(op_name(static_cast<Op>(i))), counts.ops[i]);
  Json j;
  j.set("tool", "torture");
  j.set("result", "pass");
  j.set("seed", std::to_string(seed));  // a string: exact for any 64-bit seed
  j.set("threads", threads);
  j.set("seconds", seconds);
  j.set("ops_total", counts.total_ops());
  j.set("ops", std::move(ops));
  j.set("skipped", counts.skipped);
  j.set("pages_verified", counts.pages_verified);
  j.set("segv_checks", counts.segv_checks);
  j.set("racy_exact", counts.racy_exact);
  j.set("racy_one_op", counts.racy_one_op);
  j.set("racy_unchecked", counts.racy_unchecked);
  j.set("forks", counts.forks);
  j.set("child_pages", counts.child_pages);
  j.set("holds", counts.holds);
  j.set("holds_unsupported", counts.holds_unsupported);
  j.set("hold_ops", hold_ops);
  j.set("racers", racers);
  Json races;
  for (std::size_t i = 0; i < kRaceChangeCount; ++i)
    races.set(std::string(race_change_name(static_cast<RaceChange>(i))), counts.races[i]);
  j.set("race_changes", std::move(races));
  j.set("racer_writes", counts.racer_writes);
  j.set("racer_faults", counts.racer_faults);
  j.set("racer_segvs", counts.racer_segvs);
  j.set("racer_overlaps", counts.racer_overlaps);
  j.set("race_storms", counts.race_storms);
  return j;
}

namespace {

ArgParser make_parser(Options& o, bool hidden) {
  ArgParser p;
  auto bounded = [](std::string_view v, std::string_view what, std::uint64_t lo, std::uint64_t hi) {
    const std::uint64_t n = parse_uint(v, what);
    if (n < lo || n > hi)
      throw UsageError(std::string(what) + " must be in " + std::to_string(lo) + ".." +
                       std::to_string(hi));
    return static_cast<unsigned>(n);
  };
  p.option('t', "threads", "N", "threads (4)",
           [&o, bounded](std::string_view v) { o.threads = bounded(v, "-t", 1, 1024); });
  p.option('S', "seconds", "SEC", "run time, fractions allowed (10)", [&o](std::string_view v) {
    o.seconds = parse_double(v, "-S");
    if (o.seconds <= 0) throw UsageError("-S must be positive");
  });
  p.option(0, "seed", "N", "random seed (default: time-based; always printed)",
           [&o](std::string_view v) { o.seed = parse_uint(v, "--seed"); });
  p.option(0, "ops", "N", "stop after N operations in total instead of after -S",
           [&o](std::string_view v) {
             o.ops = parse_uint(v, "--ops");
             if (o.ops == 0) throw UsageError("--ops must be positive");
           });
  p.option(0, "mappings", "N", "mapping slots (8)",
           [&o, bounded](std::string_view v) { o.mappings = bounded(v, "--mappings", 1, 4096); });
  p.option(0, "max-pages", "N", "pages per slot (64)", [&o, bounded](std::string_view v) {
    o.max_pages = bounded(v, "--max-pages", 1, 65536);
  });
  p.flag(0, "no-fork", "no fork operations", [&o] { o.fork = false; });
  p.flag(0, "no-race", "no race operations (racer threads faulting while a VMA changes)",
         [&o] { o.race = false; });
  p.option(0, "racers", "N", "racer threads per thread in races (2)",
           [&o, bounded](std::string_view v) { o.racers = bounded(v, "--racers", 1, kMaxRacers); });
  p.flag(0, "json", "print the summary as one JSON object", [&o] { o.json = true; });
  p.option(0, "log-tail", "N", "operations shown on failure (50)",
           [&o, bounded](std::string_view v) { o.log_tail = bounded(v, "--log-tail", 1, 100000); });
  p.option(0, "ctl", "PATH", "module control file for hold ops (/sys/kernel/debug/mmscale/ctl)",
           [&o](std::string_view v) { o.ctl = v; });
  if (hidden) {
    p.option(0, "inject-fault", "WHAT", "test only: stale | word | race", [&o](std::string_view v) {
      if (v == "stale")
        o.inject = Inject::kStale;
      else if (v == "word")
        o.inject = Inject::kWord;
      else if (v == "race")
        o.inject = Inject::kRace;
      else
        throw UsageError("--inject-fault must be stale, word or race");
    });
  }
  p.flag('h', "help", "print this help", [&o] { o.help = true; });
  return p;
}

}  // namespace

Options parse_options(std::span<const std::string_view> args) {
  Options o;
  const std::vector<std::string> rest = make_parser(o, true).parse(args);
  if (!rest.empty()) throw UsageError("unexpected argument '" + rest[0] + "'");
  if (o.max_pages * std::uint64_t{o.mappings} > (1U << 24))
    throw UsageError("--mappings x --max-pages must be at most 2^24 pages");
  return o;
}

std::string usage(std::string_view prog) {
  Options o;
  return "Usage: " + std::string(prog) +
         " [options]\n\nmm torture: threads race mmap, munmap, mprotect, mremap, madvise, fork "
         "and\nfaults on shared mapping slots and check every page against an exact model.\n\n"
         "Options:\n" +
         make_parser(o, false).help() +
         "\nExit status: 0 passed, 1 verification failure or error, 2 usage.\n";
}

std::uint64_t time_seed() {
  const auto t = std::chrono::system_clock::now().time_since_epoch().count();
  return mix64(static_cast<std::uint64_t>(t) ^ (static_cast<std::uint64_t>(::getpid()) << 32)) %
         1000000000000ULL;
}

Summary run(const Options& o) {
  if (!o.seed) throw UsageError("run() needs a seed");
  const FaultHandler handler;  // outlives the threads (declared before them)
  Shared sh(o);
  open_ctl(sh);
  // Each slot: max_pages pages and a guard page that stays a hole, so that
  // VMAs of different slots never touch.
  const std::size_t stride = (std::size_t{o.max_pages} + 1) * kPageSize;
  bool fixed = false;
  std::byte* const arena = find_arena(stride * o.mappings + kPageSize, fixed);
  sh.slots = std::make_unique<Slot[]>(o.mappings);
  for (unsigned i = 0; i < o.mappings; ++i) {
    Slot& s = sh.slots[i];
    s.base = arena + kPageSize + i * stride;
    s.pages.resize(o.max_pages);
  }

  populate(sh, std::uint64_t{o.threads} + 1);

  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned i = 0; i < o.threads; ++i) workers.push_back(std::make_unique<Worker>(sh, i));
  sh.running = o.threads;
  const auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> threads;
    // Destroyed before the threads are joined, also when starting one fails.
    struct StopOnExit {
      std::atomic<bool>& stop;
      ~StopOnExit() { stop.store(true); }
    } stop_on_exit{sh.stop};
    for (unsigned i = 0; i < o.threads; ++i) {
      threads.emplace_back([&sh, &w = *workers[i], i] {
        std::optional<FailureInfo> failed;
        try {
          w.run();
        } catch (const std::exception& e) {
          failed = FailureInfo{i, e.what()};
        }
        const std::scoped_lock lock(sh.done_mu);
        if (failed && !sh.failure) sh.failure = std::move(failed);
        if (failed) sh.stop.store(true);
        --sh.running;
        sh.done_cv.notify_all();
      });
    }
    std::unique_lock lock(sh.done_mu);
    auto done = [&sh] { return sh.running == 0 || sh.failure.has_value(); };
    if (o.ops != 0)
      sh.done_cv.wait(lock, done);
    else
      sh.done_cv.wait_for(lock, std::chrono::duration<double>(o.seconds), done);
    sh.stop.store(true);
  }  // joins
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (sh.failure) {
    std::string text = sh.failure->text;
    for (unsigned i = 0; i < o.threads; ++i) {
      if (i == sh.failure->thread) continue;
      const auto tail = workers[i]->log().tail();
      const std::size_t k = std::min<std::size_t>(tail.size(), 5);
      text += "last " + std::to_string(k) + " operations of thread " + std::to_string(i) + ":\n";
      for (std::size_t j = tail.size() - k; j < tail.size(); ++j)
        text += "  " + tail[j].format() + "\n";
    }
    if (!fixed) text += "(note: the arena is not at a fixed address; see README)\n";
    throw Failure(text);
  }
  Summary sum;
  sum.seed = *o.seed;
  sum.threads = o.threads;
  sum.seconds = wall;
  sum.hold_ops = sh.hold;
  sum.racers = o.race ? o.racers : 0;
  for (const auto& w : workers) sum.counts += w->counts();
  return sum;
}

}  // namespace mmscale::torture

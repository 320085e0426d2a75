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
                                                 {Op::kHold, 2}}};

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
        report_(Mapping::anonymous(kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED)) {}

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
  if (sh_.opt.threads == 1)
    t += "replay (same operation sequence): torture -t 1" + cmd + " --ops " +
         std::to_string(cur_.seq + 1) + "\n";
  else
    t += "rerun: torture -t " + std::to_string(sh_.opt.threads) + cmd +
         " (same choices per thread, another interleaving)\n";
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
  const bool inject = sh_.opt.inject != Inject::kNone && !sh_.injected.exchange(true);
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
  std::byte* addr = page_addr(s, p);
  const std::size_t len = std::size_t{n} * kPageSize;
  cur_.page = p;
  cur_.pages = n;
  cur_.addr = reinterpret_cast<std::uintptr_t>(addr);
  cur_.arg = static_cast<std::uint32_t>(kind) << 8 | static_cast<std::uint32_t>(prot);

  const std::scoped_lock lock(s.mu);
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
  changed(s);
  verify(s, p + d.below(6, n));
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
  for (std::uint32_t i = p; i < p + n; ++i) s.pages[i] = Page{};
  renumber(s);
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
  changed(s);
  verify(s, r.first + d.below(6, r.count));
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

std::string_view op_name(Op op) {
  static constexpr std::array<std::string_view, kOpCount> kNames{
      "read",   "write", "racy_read", "mmap", "munmap",   "mprotect", "grow",
      "shrink", "move",  "dontneed",  "free", "willneed", "fork",     "hold"};
  const auto i = static_cast<std::size_t>(op);
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
  };
  for (const auto& [name, v] : rows) {
    std::snprintf(line, sizeof line, "%-18s %12llu\n", name, static_cast<unsigned long long>(v));
    t += line;
  }
  if (!hold_ops) t += "(no hold operations: no usable mmscale control file)\n";
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
  p.flag(0, "json", "print the summary as one JSON object", [&o] { o.json = true; });
  p.option(0, "log-tail", "N", "operations shown on failure (50)",
           [&o, bounded](std::string_view v) { o.log_tail = bounded(v, "--log-tail", 1, 100000); });
  p.option(0, "ctl", "PATH", "module control file for hold ops (/sys/kernel/debug/mmscale/ctl)",
           [&o](std::string_view v) { o.ctl = v; });
  if (hidden) {
    p.option(0, "inject-fault", "WHAT", "test only: stale | word", [&o](std::string_view v) {
      if (v == "stale")
        o.inject = Inject::kStale;
      else if (v == "word")
        o.inject = Inject::kWord;
      else
        throw UsageError("--inject-fault must be stale or word");
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
  for (const auto& w : workers) sum.counts += w->counts();
  return sum;
}

}  // namespace mmscale::torture

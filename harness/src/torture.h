// torture: an mm torture test with an exact model of memory contents.
//
// Threads race on one address space through a table of slots.  A slot is a
// fixed window of the address space (--max-pages pages, a never-mapped guard
// page after it) that holds any mix of mappings; a per-slot mutex is held
// while an operation and its model update happen, so that the model of every
// page is exact, while operations on different slots (faults in one, mmap,
// munmap, mprotect, mremap in another) run concurrently.  In a race
// (Op::kRace) racer threads write-fault into one slot's pages without its
// lock while its owner changes their VMA.  See README.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "json.h"
#include "mapping.h"

namespace mmscale::torture {

inline constexpr std::size_t kWordsPerPage = kPageSize / sizeof(std::uint64_t);

// The word stored at word @index of a page after write @version, where the
// page is page @offset of the mapping object of generation @gen.  A hash of
// all four, so that a stale (old version), misplaced (other offset or
// object) or shifted page is detected, not only a zero page.  Never zero.
std::uint64_t pattern_word(std::uint64_t gen, std::uint64_t offset, std::uint64_t version,
                           std::size_t index);

// The value that a racer's write number @count (1, 2, ...) stores at word
// @index of page @offset of the mapping of generation @gen during race
// @race: the high 32 bits name (gen, offset, race, index), the low 32 bits
// are the count.  So a value in a page says which page and which race it was
// written for (a value of another page or generation is a stale translation)
// and, per racer, which write.  Never zero.
std::uint64_t racer_word(std::uint64_t gen, std::uint64_t offset, std::uint64_t race,
                         std::size_t index, std::uint32_t count);

// A fixed-capacity ring of the last operations; keeps the total count.
template <class T>
class RingLog {
 public:
  explicit RingLog(std::size_t capacity) : items_(capacity) {}

  void push(const T& item) {
    if (!items_.empty()) items_[total_ % items_.size()] = item;
    ++total_;
  }
  // The most recent min(total, capacity) items, oldest first.
  std::vector<T> tail() const {
    const std::size_t n = std::min(total_, items_.size());
    std::vector<T> out;
    out.reserve(n);
    for (std::size_t i = total_ - n; i < total_; ++i) out.push_back(items_[i % items_.size()]);
    return out;
  }
  std::size_t total() const { return total_; }
  std::size_t capacity() const { return items_.size(); }

 private:
  std::vector<T> items_;
  std::size_t total_ = 0;
};

enum class Op : std::uint8_t {
  kRead,      // read pages of a slot, check contents or SIGSEGV
  kWrite,     // write a new pattern into pages, read the first one back
  kRacyRead,  // read one word of a slot without its lock (see README)
  kMmap,      // MAP_FIXED(_NOREPLACE) over a range of a slot
  kMunmap,    // munmap a range of a slot
  kMprotect,  // PROT_NONE / PROT_READ / PROT_READ|PROT_WRITE
  kGrow,      // mremap in place to a larger size
  kShrink,    // mremap in place to a smaller size
  kMove,      // mremap MAYMOVE|FIXED into another slot, over what is there
  kDontneed,  // MADV_DONTNEED
  kFree,      // MADV_FREE
  kWillneed,  // MADV_WILLNEED
  kFork,      // fork; the child checks its COW view; the parent writes on
  kHold,      // the test module holds mmap_lock for a few ms
  kRace,      // racer threads write-fault into pages while their VMA changes
  kCount
};
inline constexpr std::size_t kOpCount = static_cast<std::size_t>(Op::kCount);
std::string_view op_name(Op op);

// The VMA change that a race makes while its racers fault.
enum class RaceChange : std::uint8_t {
  kMunmap,    // munmap part of the range
  kProtRead,  // mprotect part of it PROT_READ
  kProtNone,  // mprotect part of it PROT_NONE
  kMapFixed,  // a new PROT_READ or PROT_NONE mapping MAP_FIXED over part of it
  kMove,      // mremap MAYMOVE|FIXED of the range elsewhere in the slot
  kShrink,    // mremap of the range in place to fewer pages
  kFork,      // fork; the child checks its copy-on-write view
  kPageout,   // MADV_PAGEOUT
  kCount
};
inline constexpr std::size_t kRaceChangeCount = static_cast<std::size_t>(RaceChange::kCount);
std::string_view race_change_name(RaceChange c);
inline constexpr unsigned kMaxRacers = 8;  // per worker

// One entry of a thread's operation log.
struct OpRecord {
  std::uint64_t seq = 0;  // the thread's operation index (0-based)
  Op op = Op::kRead;
  std::uint32_t slot = 0;
  std::uint32_t slot2 = 0;  // kMove: destination slot; kRace: destination page of a move
  std::uint32_t page = 0;   // first page in the slot (kMove: in the destination)
  std::uint32_t pages = 0;  // 0: the operation found nothing to act on (skipped)
  std::uint64_t addr = 0;   // first address acted on
  std::uint32_t arg = 0;    // op specific: prot, kind, new size, hold mode, race change ...
  std::string format() const;
};

// What --inject-fault breaks (test only; proves that the checker can fail).
enum class Inject : std::uint8_t {
  kNone,
  kStale,  // the first write does not update the model
  kWord,   // the first write leaves one wrong word in memory
  kRace,   // the first race leaves another page's racer value in a raced page
};

struct Options {
  unsigned threads = 4;
  double seconds = 10;
  std::optional<std::uint64_t> seed;  // default: time-based
  std::uint64_t ops = 0;              // 0: run for `seconds`
  unsigned mappings = 8;              // slots
  unsigned max_pages = 64;            // pages per slot
  bool fork = true;
  bool race = true;     // race operations (Op::kRace)
  unsigned racers = 2;  // racer threads per worker thread
  bool json = false;
  unsigned log_tail = 50;
  std::string ctl;  // empty: MMSCALE_DEBUGFS_CTL
  Inject inject = Inject::kNone;
  bool help = false;
};

// Parses the command line (without the program name).  Throws UsageError.
Options parse_options(std::span<const std::string_view> args);
std::string usage(std::string_view prog);
// A seed from the clock and the pid, for runs without --seed.
std::uint64_t time_seed();

struct Counts {
  std::array<std::uint64_t, kOpCount> ops{};
  std::uint64_t skipped = 0;         // operations that found nothing to act on
  std::uint64_t pages_verified = 0;  // pages whose contents were checked
  std::uint64_t segv_checks = 0;     // expected SIGSEGVs seen (si_code, si_addr checked)
  std::uint64_t racy_exact = 0;      // racy reads with no concurrent change
  std::uint64_t racy_one_op = 0;     // racy reads across exactly one change
  std::uint64_t racy_unchecked = 0;  // racy reads across more than one change
  std::uint64_t forks = 0;
  std::uint64_t child_pages = 0;                        // pages checked by forked children
  std::uint64_t holds = 0;                              // MMSCALE_IOC_HOLD done
  std::uint64_t holds_unsupported = 0;                  // EOPNOTSUPP (ranged modes)
  std::array<std::uint64_t, kRaceChangeCount> races{};  // race operations per change
  std::uint64_t racer_writes = 0;                       // racer writes that completed
  std::uint64_t racer_faults = 0;    // of them, first writes into an emptied page (each a fault)
  std::uint64_t racer_segvs = 0;     // racer writes that got the SIGSEGV the change allows
  std::uint64_t racer_overlaps = 0;  // of the faults and SIGSEGVs: those that overlapped the
                                     // change's system call
  std::uint64_t race_storms = 0;     // races whose pages were emptied under the racers just
                                     // before the change
  Counts& operator+=(const Counts& o);
  std::uint64_t total_ops() const;
};

struct Summary {
  std::uint64_t seed = 0;
  unsigned threads = 0;
  double seconds = 0;  // wall time of the run
  bool hold_ops = false;
  unsigned racers = 0;  // racer threads per worker; 0: no race operations
  Counts counts;
  std::string to_text() const;
  Json to_json() const;
};

// A verification failure; what() is the full report (seed, thread, op,
// address, expected vs found, operation log tails).
class Failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs the torture with @o (o.seed must be set).  Throws Failure on a
// verification failure, SysError where the set-up fails.
Summary run(const Options& o);

}  // namespace mmscale::torture

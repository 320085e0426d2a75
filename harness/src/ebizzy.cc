#include "ebizzy.h"

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include "cli.h"
#include "error.h"
#include "mapping.h"
#include "runner.h"

namespace mmscale {
namespace {

using Record = std::size_t;
constexpr std::size_t kRecordSize = sizeof(Record);

ArgParser ebizzy_parser(EbizzyOptions& o) {
  ArgParser p;
  auto positive = [](std::string_view v, std::string_view what) {
    const std::uint64_t n = parse_size(v, what);
    if (n == 0) throw UsageError(std::string(what) + " must be positive");
    return n;
  };
  p.flag('T', "", "Just 'touch' the allocated pages", [&o] { o.touch_pages = true; });
  p.flag('l', "", "Don't use library memcpy", [&o] { o.no_lib_memcpy = true; });
  p.flag('m', "", "Always use mmap instead of malloc", [&o] { o.always_mmap = true; });
  p.flag('M', "", "Never use mmap", [&o] { o.never_mmap = true; });
  p.option('n', "", "<num>", "Number of memory chunks to allocate (10)",
           [&o, positive](std::string_view v) { o.chunks = positive(v, "-n"); });
  p.flag('p', "", "Prevent mmap coalescing using permissions", [&o] { o.use_permissions = true; });
  p.flag('P', "", "Prevent mmap coalescing using holes", [&o] { o.use_holes = true; });
  p.flag('R', "", "Randomize size of memory to copy and search", [&o] { o.random_size = true; });
  p.option('s', "", "<size>", "Size of memory chunks, in bytes (512K; K/M/G suffixes)",
           [&o, positive](std::string_view v) { o.chunk_size = positive(v, "-s"); });
  p.option('S', "", "<seconds>", "Number of seconds to run (10; fractions allowed)",
           [&o](std::string_view v) {
             o.seconds = parse_double(v, "-S");
             if (o.seconds <= 0) throw UsageError("-S must be positive");
           });
  p.option('t', "", "<num>", "Number of threads (2 * number cpus by default)",
           [&o](std::string_view v) {
             const std::uint64_t n = parse_uint(v, "-t");
             if (n == 0 || n > 4096) throw UsageError("-t must be in 1..4096");
             o.threads = static_cast<unsigned>(n);
           });
  p.flag('v', "", "Be verbose (more v's for more verbose)", [&o] { ++o.verbose; });
  p.flag('z', "", "Linear search instead of binary search", [&o] { o.linear = true; });
  p.flag(0, "json", "Print one JSON object instead of the text output", [&o] { o.json = true; });
  p.flag('h', "help", "Print this help", [&o] { o.help = true; });
  return p;
}

// A chunk of ebizzy memory from mmap() or malloc(); freed in the destructor.
class Chunk {
 public:
  Chunk(std::size_t size, bool use_mmap) : size_(size) {
    if (use_mmap) {
      map_ = Mapping::anonymous(size);
    } else {
      heap_.reset(std::malloc(size));
      if (!heap_) throw SysError("malloc", ENOMEM);
    }
  }
  std::byte* data() const { return map_ ? map_.data() : static_cast<std::byte*>(heap_.get()); }
  std::size_t size() const { return size_; }
  Record* records() const { return reinterpret_cast<Record*>(data()); }
  std::size_t record_count() const { return size_ / kRecordSize; }
  const Mapping& mapping() const { return map_; }

 private:
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::size_t size_;
  Mapping map_;
  std::unique_ptr<void, Free> heap_;
};

// ebizzy's deliberately simple random numbers (same sequence as the original).
inline unsigned rand_num(unsigned max, unsigned& state) {
  state = state * 1103515245u + 12345u;
  return (state / 65536u) % max;
}

// ebizzy -l: a byte loop the compiler must not turn back into memcpy().
void byte_copy(std::byte* dst, const std::byte* src, std::size_t len) {
  volatile std::byte* d = dst;
  for (std::size_t i = 0; i < len; ++i) d[i] = src[i];
}

}  // namespace

EbizzyOptions parse_ebizzy_options(std::span<const std::string_view> args) {
  EbizzyOptions o;
  const std::vector<std::string> rest = ebizzy_parser(o).parse(args);
  if (!rest.empty()) throw UsageError("unexpected argument '" + rest.front() + "'");
  if (o.always_mmap && o.never_mmap)
    throw UsageError("Both -m \"always mmap\" and -M \"never mmap\" option specified");
  if (o.chunk_size < kRecordSize)
    throw UsageError("Chunk size " + std::to_string(o.chunk_size) + " smaller than record size " +
                     std::to_string(kRecordSize));
  if (o.threads == 0) o.threads = 2 * std::max(1u, std::thread::hardware_concurrency());
  return o;
}

std::string ebizzy_usage(std::string_view prog) {
  EbizzyOptions o;
  return "Usage: " + std::string(prog) + " [options]\n" + ebizzy_parser(o).help();
}

EbizzyResult run_ebizzy(const EbizzyOptions& o) {
  if (o.verbose) {
    std::printf("ebizzy 0.3 (mmscale harness)\n");
    std::printf("always_mmap %d\nnever_mmap %d\nchunks %zu\n", o.always_mmap, o.never_mmap,
                o.chunks);
    std::printf("prevent coalescing using permissions %d\n", o.use_permissions);
    std::printf("prevent coalescing using holes %d\n", o.use_holes);
    std::printf("random_size %d\nchunk_size %zu\nseconds %g\nthreads %u\nverbose %u\n",
                o.random_size, o.chunk_size, o.seconds, o.threads, o.verbose);
    std::printf("linear %d\ntouch_pages %d\npage size %zu\n", o.linear, o.touch_pages, kPageSize);
  }
  if (o.never_mmap) ::mallopt(M_MMAP_MAX, 0);

  // The source chunks; -p needs page-aligned chunks, so it implies mmap here.
  const bool chunk_mmap = o.always_mmap || o.use_permissions;
  std::vector<Chunk> chunks;
  chunks.reserve(o.chunks);
  {
    std::vector<Chunk> holes;
    for (std::size_t i = 0; i < o.chunks; ++i) {
      chunks.emplace_back(o.chunk_size, chunk_mmap);
      if (o.use_holes) holes.emplace_back(kPageSize, o.always_mmap);
    }
  }  // the hole pages are freed here, leaving gaps between the chunks
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    Record* r = chunks[i].records();
    for (std::size_t j = 0; j < chunks[i].record_count(); ++j) r[j] = j;
    if (o.use_permissions && i % 2 == 0) chunks[i].mapping().protect(PROT_READ);
  }
  if (o.verbose) std::printf("Allocated memory\nWrote memory\n");

  const ThreadBody body = [&o, &chunks](const std::atomic<bool>& stop) {
    unsigned state = 0x0c0ffee0;
    std::uint64_t records = 0;
    const auto max_records = static_cast<unsigned>(o.chunk_size / kRecordSize);
    for (; !stop.load(std::memory_order_relaxed); ++records) {
      const Chunk& src = chunks[rand_num(static_cast<unsigned>(o.chunks), state)];
      std::size_t copy_size = o.chunk_size;
      if (o.random_size) copy_size = (rand_num(max_records, state) + 1) * kRecordSize;
      const Chunk copy(copy_size, o.always_mmap);
      if (o.touch_pages) {
        for (std::size_t off = 0; off < copy_size; off += kPageSize)
          *reinterpret_cast<volatile unsigned char*>(copy.data() + off) = 0xff;
        continue;
      }
      if (o.no_lib_memcpy)
        byte_copy(copy.data(), src.data(), copy_size);
      else
        std::memcpy(copy.data(), src.data(), copy_size);
      const Record key = rand_num(static_cast<unsigned>(copy.record_count()), state);
      const std::span<const Record> recs(copy.records(), copy.record_count());
      const bool found = o.linear ? std::find(recs.begin(), recs.end(), key) != recs.end()
                                  : std::binary_search(recs.begin(), recs.end(), key);
      if (!found) throw std::runtime_error("Couldn't find key " + std::to_string(key));
    }
    return records;
  };
  if (o.verbose) std::printf("Threads starting\n");
  const std::vector<ThreadBody> bodies(o.threads, body);
  const TimedRun run = run_timed(bodies, std::chrono::duration<double>(o.seconds));
  if (o.verbose) std::printf("Threads finished\n");

  EbizzyResult r;
  for (const ThreadResult& t : run.threads) r.records += t.ops;
  r.real_s = run.wall_s;
  r.records_per_s = static_cast<double>(r.records) / run.wall_s;
  r.user_s = run.cpu.user_s;
  r.sys_s = run.cpu.sys_s;
  return r;
}

std::string format_ebizzy_text(const EbizzyResult& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%" PRIu64 " records/s\nreal %5.2f s\nuser %5.2f s\nsys  %5.2f s\n",
                static_cast<std::uint64_t>(r.records_per_s), r.real_s, r.user_s, r.sys_s);
  return buf;
}

Json ebizzy_json(const EbizzyOptions& o, const EbizzyResult& r) {
  Json j;
  j.set("tool", "ebizzy").set("records_per_s", r.records_per_s).set("records", r.records);
  j.set("threads", o.threads).set("seconds", o.seconds).set("chunks", o.chunks);
  j.set("chunk_size", o.chunk_size).set("always_mmap", o.always_mmap);
  j.set("never_mmap", o.never_mmap).set("touch_pages", o.touch_pages);
  j.set("real", r.real_s).set("user", r.user_s).set("sys", r.sys_s);
  return j;
}

}  // namespace mmscale

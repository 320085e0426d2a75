// An ebizzy 0.3 compatible benchmark: threads copy a random chunk into fresh
// memory (mmap or malloc), search it for a random record and free it.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "json.h"

namespace mmscale {

struct EbizzyOptions {
  unsigned threads = 0;                // -t; 0 until parsed: 2 * online CPUs
  double seconds = 10;                 // -S (fractions accepted)
  std::size_t chunk_size = 512 << 10;  // -s, bytes
  std::size_t chunks = 10;             // -n
  bool always_mmap = false;            // -m
  bool never_mmap = false;             // -M
  bool use_permissions = false;        // -p: alternate chunk protections
  bool use_holes = false;              // -P: leave holes between chunks
  bool random_size = false;            // -R
  bool touch_pages = false;            // -T: touch one byte per page, no copy/search
  bool no_lib_memcpy = false;          // -l: byte loop instead of memcpy()
  bool linear = false;                 // -z: linear instead of binary search
  unsigned verbose = 0;                // -v, repeatable
  bool json = false;                   // --json
  bool help = false;                   // -h, --help
};

// Parses ebizzy's arguments (without argv[0]).  Throws UsageError.
EbizzyOptions parse_ebizzy_options(std::span<const std::string_view> args);
std::string ebizzy_usage(std::string_view prog);

struct EbizzyResult {
  std::uint64_t records = 0;
  double records_per_s = 0;
  double real_s = 0;
  double user_s = 0;
  double sys_s = 0;
};

// Runs the benchmark.  Throws SysError, or std::runtime_error on a search
// that fails (memory corruption).
EbizzyResult run_ebizzy(const EbizzyOptions& o);

// "N records/s", "real X s", "user X s", "sys  X s" as ebizzy prints them.
std::string format_ebizzy_text(const EbizzyResult& r);
Json ebizzy_json(const EbizzyOptions& o, const EbizzyResult& r);

}  // namespace mmscale

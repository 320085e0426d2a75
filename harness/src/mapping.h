// RAII owners of kernel resources: Mapping (mmap/munmap) and FileDescriptor.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace mmscale {

inline constexpr std::size_t kPageSize = 4096;

// One mmap()ed range, unmapped in the destructor.  Move-only.
class Mapping {
 public:
  Mapping() = default;
  // Takes ownership of [addr, addr + length), which must come from mmap().
  Mapping(void* addr, std::size_t length) : addr_(addr), length_(length) {}
  ~Mapping() { reset(); }

  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  Mapping(Mapping&& other) noexcept;
  Mapping& operator=(Mapping&& other) noexcept;

  // Private anonymous read/write memory.  Throws SysError.
  static Mapping anonymous(std::size_t length, int prot = PROT_READ | PROT_WRITE,
                           int flags = MAP_PRIVATE);
  // A mapping of @fd.  Throws SysError.
  static Mapping file(int fd, std::size_t length, int prot, int flags, off_t offset = 0);

  std::byte* data() const { return static_cast<std::byte*>(addr_); }
  std::size_t size() const { return length_; }
  std::span<std::byte> bytes() const { return {data(), length_}; }
  explicit operator bool() const { return addr_ != nullptr; }

  void advise(int advice) const;  // madvise(); throws SysError
  void protect(int prot) const;   // mprotect(); throws SysError
  void reset() noexcept;          // munmap() now, if owning anything
  void* release() noexcept;       // gives up ownership without unmapping

 private:
  void* addr_ = nullptr;
  std::size_t length_ = 0;
};

// An owned file descriptor, closed in the destructor.  Move-only.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() { reset(); }

  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() noexcept;

 private:
  int fd_ = -1;
};

// An unlinked temporary file of @size bytes in directory @dir.  Throws SysError.
FileDescriptor make_temp_file(const std::string& dir, std::size_t size);

// Rounds @n up to a multiple of the page size.
constexpr std::size_t page_align(std::size_t n) { return (n + kPageSize - 1) & ~(kPageSize - 1); }

inline constexpr std::uintptr_t kPmdSize = std::uintptr_t{1} << 21;  // x86_64: 2 MiB

// An address range [start, end).
struct AddressRange {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
};

// The first PMD-aligned 2 MiB block inside [start, start + size) that no
// range a neighbouring mapping's madvise() or fault locks reaches, even
// rounded out to whole PMDs (as CONFIG_MMAP_LOCK_RANGE does): it starts at
// or above the first PMD boundary in the range and ends at or below the
// last one.  std::invalid_argument if there is none (a page-aligned range
// of 4 MiB always has one; a smaller one may not).
AddressRange isolated_pmd_block(std::uintptr_t start, std::size_t size);

// How many lines of /proc/self/maps (VMAs) overlap @range.  Throws
// SysError if the file cannot be read, std::runtime_error on a line it
// cannot parse.
std::size_t count_mappings(AddressRange range);

}  // namespace mmscale

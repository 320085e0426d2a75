#include "mapping.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "error.h"

namespace mmscale {

Mapping::Mapping(Mapping&& other) noexcept
    : addr_(std::exchange(other.addr_, nullptr)), length_(std::exchange(other.length_, 0)) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    reset();
    addr_ = std::exchange(other.addr_, nullptr);
    length_ = std::exchange(other.length_, 0);
  }
  return *this;
}

Mapping Mapping::anonymous(std::size_t length, int prot, int flags) {
  void* p = ::mmap(nullptr, length, prot, flags | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw_errno("mmap");
  return Mapping(p, length);
}

Mapping Mapping::file(int fd, std::size_t length, int prot, int flags, off_t offset) {
  void* p = ::mmap(nullptr, length, prot, flags, fd, offset);
  if (p == MAP_FAILED) throw_errno("mmap");
  return Mapping(p, length);
}

void Mapping::advise(int advice) const {
  if (::madvise(addr_, length_, advice) != 0) throw_errno("madvise");
}

void Mapping::protect(int prot) const {
  if (::mprotect(addr_, length_, prot) != 0) throw_errno("mprotect");
}

void Mapping::reset() noexcept {
  if (addr_ != nullptr) ::munmap(addr_, length_);
  addr_ = nullptr;
  length_ = 0;
}

void* Mapping::release() noexcept {
  length_ = 0;
  return std::exchange(addr_, nullptr);
}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void FileDescriptor::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

FileDescriptor make_temp_file(const std::string& dir, std::size_t size) {
  std::string path = dir + "/mmscale-XXXXXX";
  std::vector<char> buf(path.begin(), path.end());
  buf.push_back('\0');
  FileDescriptor fd(::mkstemp(buf.data()));
  if (!fd) throw_errno("mkstemp " + path);
  ::unlink(buf.data());
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) throw_errno("ftruncate");
  return fd;
}

AddressRange isolated_pmd_block(std::uintptr_t start, std::size_t size) {
  if (size > UINTPTR_MAX - start) throw std::invalid_argument("isolated_pmd_block: range wraps");
  const std::uintptr_t first = (start + kPmdSize - 1) & ~(kPmdSize - 1);
  const std::uintptr_t last = (start + size) & ~(kPmdSize - 1);
  if (first < start || last < first || last - first < kPmdSize)
    throw std::invalid_argument("isolated_pmd_block: no whole PMD inside the range");
  return {first, first + kPmdSize};
}

std::size_t count_mappings(AddressRange range) {
  std::ifstream maps("/proc/self/maps");
  if (!maps) throw_errno("open /proc/self/maps");
  std::size_t n = 0;
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long start = 0;
    unsigned long end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &start, &end) != 2 || start >= end)
      throw std::runtime_error("cannot parse /proc/self/maps line: " + line);
    if (start < range.end && end > range.start) ++n;
  }
  return n;
}

}  // namespace mmscale

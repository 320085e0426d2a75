#include "mapping.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "error.h"

namespace mmscale {
namespace {

static_assert(!std::is_copy_constructible_v<Mapping>);
static_assert(!std::is_copy_assignable_v<Mapping>);
static_assert(std::is_nothrow_move_constructible_v<Mapping>);
static_assert(std::is_nothrow_move_assignable_v<Mapping>);

// True if [p, p + len) has any page mapped (mincore fails with ENOMEM when not).
bool is_mapped(void* p, std::size_t len) {
  unsigned char vec[16];
  return ::mincore(p, len, vec) == 0;
}

TEST(Mapping, UnmapsInDestructor) {
  void* addr = nullptr;
  {
    const Mapping m = Mapping::anonymous(2 * kPageSize);
    addr = m.data();
    m.data()[kPageSize] = std::byte{1};
    EXPECT_TRUE(is_mapped(addr, 2 * kPageSize));
  }
  EXPECT_FALSE(is_mapped(addr, kPageSize));
}

TEST(Mapping, MoveTransfersOwnership) {
  Mapping a = Mapping::anonymous(kPageSize);
  void* addr = a.data();
  Mapping b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_EQ(a.size(), 0u);
  ASSERT_TRUE(b);
  EXPECT_EQ(b.data(), addr);
  EXPECT_TRUE(is_mapped(addr, kPageSize));

  Mapping c = Mapping::anonymous(kPageSize);
  void* old_c = c.data();
  c = std::move(b);  // unmaps c's old range, takes b's
  EXPECT_FALSE(is_mapped(old_c, kPageSize));
  EXPECT_EQ(c.data(), addr);
  EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move)
  c.reset();
  EXPECT_FALSE(is_mapped(addr, kPageSize));
}

TEST(Mapping, ReleaseKeepsTheRange) {
  Mapping m = Mapping::anonymous(kPageSize);
  void* p = m.release();
  EXPECT_FALSE(m);
  EXPECT_TRUE(is_mapped(p, kPageSize));
  ::munmap(p, kPageSize);
}

TEST(Mapping, FailuresCarrySyscallAndErrno) {
  try {
    Mapping::anonymous(0);
    FAIL() << "no exception";
  } catch (const SysError& e) {
    EXPECT_EQ(e.call(), "mmap");
    EXPECT_EQ(e.err(), EINVAL);
    EXPECT_NE(std::string(e.what()).find("errno 22"), std::string::npos);
  }
}

TEST(Mapping, FileMappingOfTempFile) {
  const FileDescriptor fd = make_temp_file("/tmp", 4 * kPageSize);
  const Mapping m = Mapping::file(fd.get(), 4 * kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED);
  m.data()[3 * kPageSize] = std::byte{7};
  EXPECT_EQ(m.bytes().size(), 4 * kPageSize);
}

TEST(IsolatedPmdBlock, AlignedStartGivesTheFirstBlock) {
  const AddressRange b = isolated_pmd_block(0x40000000, 4 << 20);
  EXPECT_EQ(b.start, 0x40000000u);
  EXPECT_EQ(b.end, 0x40200000u);
}

TEST(IsolatedPmdBlock, UnalignedStartSkipsThePartialBlock) {
  // [1 GiB + 4 KiB, + 4 MiB): the first whole PMD starts at 1 GiB + 2 MiB.
  const AddressRange b = isolated_pmd_block(0x40001000, 4 << 20);
  EXPECT_EQ(b.start, 0x40200000u);
  EXPECT_EQ(b.end, 0x40400000u);
}

TEST(IsolatedPmdBlock, EveryPageAlignedStartOf4MiBHasOne) {
  for (std::uintptr_t start = 0x40000000; start < 0x40200000; start += kPageSize) {
    const AddressRange b = isolated_pmd_block(start, 4 << 20);
    EXPECT_EQ(b.start % kPmdSize, 0u);
    EXPECT_GE(b.start, start);
    EXPECT_LE(b.end, start + (4 << 20));
  }
}

TEST(IsolatedPmdBlock, RejectsRangesWithoutAWholePmd) {
  EXPECT_THROW(isolated_pmd_block(0x40001000, 2 << 20), std::invalid_argument);
  EXPECT_THROW(isolated_pmd_block(0x40000000, (2 << 20) - kPageSize), std::invalid_argument);
  EXPECT_THROW(isolated_pmd_block(UINTPTR_MAX - kPageSize + 1, 8 << 20), std::invalid_argument);
}

TEST(CountMappings, SeesSplitsAndMerges) {
  const Mapping m = Mapping::anonymous(3 * kPageSize);
  const auto start = reinterpret_cast<std::uintptr_t>(m.data());
  const AddressRange all{start, start + 3 * kPageSize};
  EXPECT_EQ(count_mappings(all), 1u);
  ASSERT_EQ(::mprotect(m.data() + kPageSize, kPageSize, PROT_READ), 0);
  EXPECT_EQ(count_mappings(all), 3u);
  EXPECT_EQ(count_mappings({start, start + kPageSize}), 1u);
  ASSERT_EQ(::mprotect(m.data() + kPageSize, kPageSize, PROT_READ | PROT_WRITE), 0);
  EXPECT_EQ(count_mappings(all), 1u);
}

TEST(CountMappings, UnmappedRangeHasNone) {
  void* addr = nullptr;
  {
    const Mapping m = Mapping::anonymous(kPageSize);
    addr = m.data();
  }
  const auto start = reinterpret_cast<std::uintptr_t>(addr);
  EXPECT_EQ(count_mappings({start, start + kPageSize}), 0u);
}

}  // namespace
}  // namespace mmscale

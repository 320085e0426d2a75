#include "ebizzy.h"

#include <gtest/gtest.h>

#include <regex>

#include "error.h"

namespace mmscale {
namespace {

EbizzyOptions parse(std::vector<std::string_view> args) { return parse_ebizzy_options(args); }

TEST(EbizzyOptions, Defaults) {
  const EbizzyOptions o = parse({});
  EXPECT_EQ(o.chunk_size, 512u * 1024);
  EXPECT_EQ(o.chunks, 10u);
  EXPECT_DOUBLE_EQ(o.seconds, 10);
  EXPECT_GE(o.threads, 2u);  // 2 * online CPUs
  EXPECT_FALSE(o.always_mmap);
  EXPECT_FALSE(o.json);
}

TEST(EbizzyOptions, BundledFlagsAsInTheSpfPapers) {
  const EbizzyOptions o = parse({"-mTt", "4", "-S", "2"});
  EXPECT_TRUE(o.always_mmap);
  EXPECT_TRUE(o.touch_pages);
  EXPECT_EQ(o.threads, 4u);
  EXPECT_DOUBLE_EQ(o.seconds, 2);
}

TEST(EbizzyOptions, EveryOption) {
  const EbizzyOptions o = parse({"-l", "-M", "-n", "3", "-p", "-P", "-R", "-s", "64K", "-S0.5",
                                 "-t1", "-vv", "-z", "--json"});
  EXPECT_TRUE(o.no_lib_memcpy);
  EXPECT_TRUE(o.never_mmap);
  EXPECT_EQ(o.chunks, 3u);
  EXPECT_TRUE(o.use_permissions);
  EXPECT_TRUE(o.use_holes);
  EXPECT_TRUE(o.random_size);
  EXPECT_EQ(o.chunk_size, 64u * 1024);
  EXPECT_DOUBLE_EQ(o.seconds, 0.5);
  EXPECT_EQ(o.threads, 1u);
  EXPECT_EQ(o.verbose, 2u);
  EXPECT_TRUE(o.linear);
  EXPECT_TRUE(o.json);
}

TEST(EbizzyOptions, InvalidOptionsAreUsageErrors) {
  // main() turns a UsageError into the usage text and exit status 2.
  EXPECT_THROW(parse({"-Q"}), UsageError);
  EXPECT_THROW(parse({"-t", "0"}), UsageError);
  EXPECT_THROW(parse({"-t", "two"}), UsageError);
  EXPECT_THROW(parse({"-t"}), UsageError);
  EXPECT_THROW(parse({"-n", "0"}), UsageError);
  EXPECT_THROW(parse({"-S", "0"}), UsageError);
  EXPECT_THROW(parse({"-s", "4"}), UsageError);  // smaller than a record
  EXPECT_THROW(parse({"-m", "-M"}), UsageError);
  EXPECT_THROW(parse({"extra"}), UsageError);
  EXPECT_THROW(parse({"--nosuch"}), UsageError);
}

TEST(EbizzyOutput, TextFormatMatchesEbizzy) {
  EbizzyResult r;
  r.records_per_s = 12345.9;
  r.real_s = 1.0042;
  r.user_s = 0.5;
  r.sys_s = 1.25;
  EXPECT_EQ(format_ebizzy_text(r), "12345 records/s\nreal  1.00 s\nuser  0.50 s\nsys   1.25 s\n");
}

TEST(EbizzyOutput, JsonHasTheHeadlineFields) {
  EbizzyOptions o = parse({"-t", "3", "-S", "1"});
  EbizzyResult r;
  r.records_per_s = 10;
  const Json j = ebizzy_json(o, r);
  EXPECT_DOUBLE_EQ(j.find("records_per_s")->as_number(), 10);
  EXPECT_DOUBLE_EQ(j.find("threads")->as_number(), 3);
  EXPECT_DOUBLE_EQ(j.find("seconds")->as_number(), 1);
  for (const char* k : {"real", "user", "sys"}) EXPECT_NE(j.find(k), nullptr) << k;
}

}  // namespace
}  // namespace mmscale

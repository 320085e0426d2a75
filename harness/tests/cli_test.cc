#include "cli.h"

#include <gtest/gtest.h>

#include "error.h"

namespace mmscale {
namespace {

TEST(ArgParser, BundledShortLongAndPositional) {
  ArgParser p;
  bool a = false, json = false;
  std::string t, base;
  p.flag('a', "", "", [&] { a = true; });
  p.option('t', "", "N", "", [&](std::string_view v) { t = v; });
  p.flag(0, "json", "", [&] { json = true; });
  p.option('b', "baseline", "NAME", "", [&](std::string_view v) { base = v; });
  const std::vector<std::string_view> args{"-at", "3", "x", "--json", "--baseline=v", "--", "-a"};
  const auto rest = p.parse(args);
  EXPECT_TRUE(a);
  EXPECT_TRUE(json);
  EXPECT_EQ(t, "3");
  EXPECT_EQ(base, "v");
  EXPECT_EQ(rest, (std::vector<std::string>{"x", "-a"}));
}

TEST(ArgParser, Errors) {
  ArgParser p;
  p.option('t', "threads", "N", "", [](std::string_view) {});
  p.flag(0, "json", "", [] {});
  EXPECT_THROW(p.parse(std::vector<std::string_view>{"-x"}), UsageError);
  EXPECT_THROW(p.parse(std::vector<std::string_view>{"-t"}), UsageError);
  EXPECT_THROW(p.parse(std::vector<std::string_view>{"--threads"}), UsageError);
  EXPECT_THROW(p.parse(std::vector<std::string_view>{"--json=1"}), UsageError);
  EXPECT_THROW(p.parse(std::vector<std::string_view>{"--nosuch"}), UsageError);
  EXPECT_NO_THROW(p.parse(std::vector<std::string_view>{"--threads", "2"}));
}

TEST(ValueParsers, NumbersAndSizes) {
  EXPECT_EQ(parse_uint("42", "-n"), 42u);
  EXPECT_EQ(parse_uint("0x10", "-n"), 16u);
  EXPECT_THROW(parse_uint("4x", "-n"), UsageError);
  EXPECT_THROW(parse_uint("", "-n"), UsageError);
  EXPECT_THROW(parse_uint("-1", "-n"), UsageError);
  EXPECT_EQ(parse_size("512K", "-s"), 512u << 10);
  EXPECT_EQ(parse_size("2m", "-s"), 2u << 20);
  EXPECT_EQ(parse_size("1G", "-s"), 1ULL << 30);
  EXPECT_THROW(parse_size("99999999999999999999G", "-s"), UsageError);
  EXPECT_DOUBLE_EQ(parse_double("0.25", "-S"), 0.25);
  EXPECT_THROW(parse_double("1s", "-S"), UsageError);
}

}  // namespace
}  // namespace mmscale

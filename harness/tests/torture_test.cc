// torture: the model's pattern, the operation log, option parsing, a short
// run on the host, and proof that the checker fails where it must.
#include "torture.h"

#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "error.h"

namespace mmscale::torture {
namespace {

TEST(TorturePattern, DistinctInputsGiveDistinctWords) {
  std::set<std::uint64_t> seen;
  std::size_t n = 0;
  for (std::uint64_t gen : {1ULL, 2ULL, (1ULL << 40) | 1, (2ULL << 40) | 1})
    for (std::uint64_t off = 0; off < 16; ++off)
      for (std::uint64_t version : {0ULL, 1ULL, 2ULL, (1ULL << 40) | 7})
        for (std::size_t i : {std::size_t{0}, std::size_t{1}, kWordsPerPage - 1}) {
          seen.insert(pattern_word(gen, off, version, i));
          ++n;
        }
  EXPECT_EQ(seen.size(), n);
}

TEST(TorturePattern, NeverZeroAndDeterministic) {
  for (std::uint64_t x = 0; x < 20000; ++x) {
    const std::uint64_t w = pattern_word(x % 7, x % 64, x, x % kWordsPerPage);
    EXPECT_NE(w, 0u);
    EXPECT_EQ(w, pattern_word(x % 7, x % 64, x, x % kWordsPerPage));
  }
}

TEST(TorturePattern, EachInputMatters) {
  const std::uint64_t w = pattern_word(5, 3, 9, 17);
  EXPECT_NE(w, pattern_word(6, 3, 9, 17));
  EXPECT_NE(w, pattern_word(5, 4, 9, 17));
  EXPECT_NE(w, pattern_word(5, 3, 10, 17));
  EXPECT_NE(w, pattern_word(5, 3, 9, 18));
  // Swapped offset and version, swapped generation and offset.
  EXPECT_NE(pattern_word(1, 2, 3, 0), pattern_word(1, 3, 2, 0));
  EXPECT_NE(pattern_word(1, 2, 3, 0), pattern_word(2, 1, 3, 0));
}

TEST(TortureRingLog, KeepsTheLastItemsInOrder) {
  RingLog<int> log(3);
  EXPECT_TRUE(log.tail().empty());
  log.push(1);
  log.push(2);
  EXPECT_EQ(log.tail(), (std::vector<int>{1, 2}));
  for (int i = 3; i <= 7; ++i) log.push(i);
  EXPECT_EQ(log.tail(), (std::vector<int>{5, 6, 7}));
  EXPECT_EQ(log.total(), 7u);
  EXPECT_EQ(log.capacity(), 3u);
}

TEST(TortureOpRecord, FormatNamesTheOperation) {
  OpRecord r;
  r.seq = 12;
  r.op = Op::kMove;
  r.slot = 1;
  r.slot2 = 3;
  r.page = 4;
  r.pages = 2;
  r.addr = 0x300000001000;
  r.arg = 7;
  EXPECT_EQ(r.format(), "#12 move slot 1 pages [4, +2) addr 0x300000001000 -> slot 3 page 7");
  r.pages = 0;
  EXPECT_EQ(r.format(), "#12 move slot 1 (nothing to act on)");
  for (std::size_t i = 0; i < kOpCount; ++i) EXPECT_NE(op_name(static_cast<Op>(i)), "?");
}

Options parse(std::vector<std::string_view> args) { return parse_options(args); }

TEST(TortureOptions, DefaultsAndValues) {
  const Options d = parse({});
  EXPECT_EQ(d.threads, 4u);
  EXPECT_EQ(d.seconds, 10);
  EXPECT_FALSE(d.seed.has_value());
  EXPECT_EQ(d.ops, 0u);
  EXPECT_EQ(d.mappings, 8u);
  EXPECT_EQ(d.max_pages, 64u);
  EXPECT_TRUE(d.fork);
  EXPECT_EQ(d.log_tail, 50u);
  const Options o =
      parse({"-t", "2", "-S", "0.5", "--seed", "42", "--ops=1000", "--mappings", "3", "--max-pages",
             "5", "--no-fork", "--json", "--log-tail", "7", "--ctl", "/x", "--inject-fault=word"});
  EXPECT_EQ(o.threads, 2u);
  EXPECT_EQ(o.seconds, 0.5);
  EXPECT_EQ(o.seed, 42u);
  EXPECT_EQ(o.ops, 1000u);
  EXPECT_EQ(o.mappings, 3u);
  EXPECT_EQ(o.max_pages, 5u);
  EXPECT_FALSE(o.fork);
  EXPECT_TRUE(o.json);
  EXPECT_EQ(o.log_tail, 7u);
  EXPECT_EQ(o.ctl, "/x");
  EXPECT_EQ(o.inject, Inject::kWord);
}

TEST(TortureOptions, BadOptionsAreUsageErrors) {
  for (const auto& args :
       std::vector<std::vector<std::string_view>>{{"-t", "0"},
                                                  {"-t", "x"},
                                                  {"-S", "0"},
                                                  {"-S", "-1"},
                                                  {"--seed"},
                                                  {"--ops", "0"},
                                                  {"--mappings", "0"},
                                                  {"--max-pages", "0"},
                                                  {"--log-tail", "0"},
                                                  {"--inject-fault", "nosuch"},
                                                  {"--nosuch"},
                                                  {"extra"},
                                                  {"--mappings", "4096", "--max-pages", "65536"}})
    EXPECT_THROW(parse(args), UsageError) << args[0];
}

TEST(TortureOptions, UsageHidesTestOptions) {
  const std::string u = usage("torture");
  EXPECT_NE(u.find("--max-pages"), std::string::npos);
  EXPECT_EQ(u.find("inject"), std::string::npos);
}

Options quick(std::uint64_t seed) {
  Options o;
  o.seed = seed;
  o.threads = 2;
  o.seconds = 1;
  o.mappings = 4;
  o.max_pages = 16;
  o.ctl = "/nonexistent/mmscale-ctl";
  return o;
}

TEST(TortureRun, ShortRunPasses) {
  const Summary s = run(quick(1));
  EXPECT_EQ(s.seed, 1u);
  EXPECT_GT(s.counts.total_ops(), 100u);
  EXPECT_GT(s.counts.pages_verified, 0u);
  EXPECT_GT(s.counts.segv_checks, 0u);
  EXPECT_GT(s.counts.forks, 0u);
  EXPECT_FALSE(s.hold_ops);
  const Json j = s.to_json();
  EXPECT_EQ(j.find("tool")->as_string(), "torture");
  EXPECT_EQ(j.find("ops")->find("read")->as_number(),
            static_cast<double>(s.counts.ops[static_cast<std::size_t>(Op::kRead)]));
}

TEST(TortureRun, OpsLimitIsExactWithOneThread) {
  Options o = quick(7);
  o.threads = 1;
  o.ops = 3000;
  const Summary a = run(o);
  EXPECT_EQ(a.counts.total_ops(), 3000u);
  const Summary b = run(o);
  EXPECT_EQ(a.counts.ops, b.counts.ops);
  EXPECT_EQ(a.counts.pages_verified + a.counts.segv_checks,
            b.counts.pages_verified + b.counts.segv_checks);
}

// The checker must be able to fail: a model update skipped, a word corrupted.
class TortureDetection : public testing::TestWithParam<Inject> {};

TEST_P(TortureDetection, InjectedFaultFailsWithTheSeed) {
  Options o = quick(12345);
  o.ops = 20000;
  o.inject = GetParam();
  try {
    run(o);
    FAIL() << "the injected fault went unnoticed";
  } catch (const Failure& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("seed 12345"), std::string::npos) << what;
    EXPECT_NE(what.find("expected 0x"), std::string::npos) << what;
    EXPECT_NE(what.find("operations of thread"), std::string::npos) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(All, TortureDetection, testing::Values(Inject::kStale, Inject::kWord),
                         [](const testing::TestParamInfo<Inject>& info) {
                           return info.param == Inject::kStale ? "stale" : "word";
                         });

}  // namespace
}  // namespace mmscale::torture

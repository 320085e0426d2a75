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

TEST(TorturePattern, RacerWordNamesPageRaceWordAndCount) {
  const std::uint64_t w = racer_word(5, 3, 9, 17, 42);
  EXPECT_EQ(w & 0xffffffffu, 42u);
  EXPECT_EQ(w, racer_word(5, 3, 9, 17, 42));
  EXPECT_EQ(w >> 32, racer_word(5, 3, 9, 17, 1) >> 32);  // one racer's writes
  // Another generation, offset, race or word: other high bits.
  EXPECT_NE(w >> 32, racer_word(6, 3, 9, 17, 42) >> 32);
  EXPECT_NE(w >> 32, racer_word(5, 4, 9, 17, 42) >> 32);
  EXPECT_NE(w >> 32, racer_word(5, 3, 10, 17, 42) >> 32);
  EXPECT_NE(w >> 32, racer_word(5, 3, 9, 18, 42) >> 32);
  for (std::uint32_t count = 1; count < 1000; ++count)
    EXPECT_NE(racer_word(count % 3, count % 5, count, count % kWordsPerPage, count), 0u);
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
  for (std::size_t i = 0; i < kRaceChangeCount; ++i)
    EXPECT_NE(race_change_name(static_cast<RaceChange>(i)), "?");
}

TEST(TortureOpRecord, FormatNamesTheRaceChange) {
  OpRecord r;
  r.seq = 3;
  r.op = Op::kRace;
  r.slot = 2;
  r.page = 10;
  r.pages = 8;
  r.addr = 0x300000001000;
  r.arg = static_cast<std::uint32_t>(RaceChange::kProtRead) | 2 << 8 | 3 << 16;
  EXPECT_EQ(r.format(), "#3 race slot 2 pages [10, +8) addr 0x300000001000 mprotect_read [12, +3)");
  r.arg = static_cast<std::uint32_t>(RaceChange::kMove) | 8 << 16;
  r.slot2 = 30;
  EXPECT_EQ(r.format(), "#3 race slot 2 pages [10, +8) addr 0x300000001000 move -> page 30");
  r.arg = static_cast<std::uint32_t>(RaceChange::kShrink) | 5 << 8 | 3 << 16;
  EXPECT_EQ(r.format(), "#3 race slot 2 pages [10, +8) addr 0x300000001000 shrink -> 5 pages");
  r.arg = static_cast<std::uint32_t>(RaceChange::kFork);
  EXPECT_EQ(r.format(), "#3 race slot 2 pages [10, +8) addr 0x300000001000 fork");
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
  EXPECT_TRUE(d.race);
  EXPECT_EQ(d.racers, 2u);
  EXPECT_EQ(d.log_tail, 50u);
  const Options o = parse({"-t",          "2",          "-S",
                           "0.5",         "--seed",     "42",
                           "--ops=1000",  "--mappings", "3",
                           "--max-pages", "5",          "--no-fork",
                           "--no-race",   "--racers",   "3",
                           "--json",      "--log-tail", "7",
                           "--ctl",       "/x",         "--inject-fault=word"});
  EXPECT_EQ(o.threads, 2u);
  EXPECT_EQ(o.seconds, 0.5);
  EXPECT_EQ(o.seed, 42u);
  EXPECT_EQ(o.ops, 1000u);
  EXPECT_EQ(o.mappings, 3u);
  EXPECT_EQ(o.max_pages, 5u);
  EXPECT_FALSE(o.fork);
  EXPECT_FALSE(o.race);
  EXPECT_EQ(o.racers, 3u);
  EXPECT_TRUE(o.json);
  EXPECT_EQ(o.log_tail, 7u);
  EXPECT_EQ(o.ctl, "/x");
  EXPECT_EQ(o.inject, Inject::kWord);
  EXPECT_EQ(parse({"--inject-fault", "race"}).inject, Inject::kRace);
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
                                                  {"--racers", "0"},
                                                  {"--racers", "9"},
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
  EXPECT_EQ(s.racers, 2u);
  EXPECT_GT(s.counts.ops[static_cast<std::size_t>(Op::kRace)], 0u);
  EXPECT_GT(s.counts.racer_writes, 0u);
  EXPECT_GT(s.counts.racer_faults, 0u);
  const Json j = s.to_json();
  EXPECT_EQ(j.find("tool")->as_string(), "torture");
  EXPECT_EQ(j.find("ops")->find("read")->as_number(),
            static_cast<double>(s.counts.ops[static_cast<std::size_t>(Op::kRead)]));
  EXPECT_EQ(j.find("racers")->as_number(), 2);
  EXPECT_EQ(j.find("racer_faults")->as_number(), static_cast<double>(s.counts.racer_faults));
  EXPECT_NE(j.find("race_changes")->find("map_fixed"), nullptr);
  EXPECT_NE(s.to_text().find("racer_faults"), std::string::npos);
}

// With one thread the races are the same in every run: every change is made.
TEST(TortureRun, EveryRaceChangeHappens) {
  Options o = quick(21);
  o.threads = 1;
  o.ops = 6000;
  const Summary s = run(o);
  for (std::size_t i = 0; i < kRaceChangeCount; ++i)
    EXPECT_GT(s.counts.races[i], 0u) << race_change_name(static_cast<RaceChange>(i));
  EXPECT_GT(s.counts.racer_segvs, 0u);
}

TEST(TortureRun, NoRaceRunsNoRaces) {
  Options o = quick(5);
  o.race = false;
  o.seconds = 0.3;
  const Summary s = run(o);
  EXPECT_EQ(s.racers, 0u);
  EXPECT_EQ(s.counts.ops[static_cast<std::size_t>(Op::kRace)], 0u);
  EXPECT_EQ(s.counts.racer_writes, 0u);
  EXPECT_NE(s.to_text().find("no race operations"), std::string::npos);
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

// The checker must be able to fail: a model update skipped, a word corrupted,
// a raced page holding another page's value (what a stale-VMA fault leaves).
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

INSTANTIATE_TEST_SUITE_P(All, TortureDetection,
                         testing::Values(Inject::kStale, Inject::kWord, Inject::kRace),
                         [](const testing::TestParamInfo<Inject>& info) {
                           return info.param == Inject::kStale  ? "stale"
                                  : info.param == Inject::kWord ? "word"
                                                                : "race";
                         });

TEST(TortureDetection, InjectedRaceValueIsNamed) {
  Options o = quick(4242);
  o.ops = 20000;
  o.inject = Inject::kRace;
  try {
    run(o);
    FAIL() << "the injected stale racer value went unnoticed";
  } catch (const Failure& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("race: page "), std::string::npos) << what;
    EXPECT_NE(what.find(" race slot "), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace mmscale::torture

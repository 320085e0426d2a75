// Command-line parsing for all harness tools, in one place.
//
// Short options may be bundled ("-mTt 2", "-t2"); long options take their
// argument as "--name=value" or "--name value"; "--" ends the options.
// Every error is a UsageError naming the offending option.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mmscale {

class ArgParser {
 public:
  using FlagHandler = std::function<void()>;
  using ValueHandler = std::function<void(std::string_view)>;

  // @short_name may be 0 (long only), @long_name may be empty (short only).
  void flag(char short_name, std::string_view long_name, std::string_view help, FlagHandler fn);
  void option(char short_name, std::string_view long_name, std::string_view metavar,
              std::string_view help, ValueHandler fn);

  // Parses @args (without the program name); returns the positional arguments.
  std::vector<std::string> parse(std::span<const std::string_view> args) const;
  // One line per option, for usage texts.
  std::string help() const;

 private:
  struct Spec {
    char short_name;
    std::string long_name;
    std::string metavar;  // empty: a flag
    std::string help;
    FlagHandler on_flag;
    ValueHandler on_value;
  };
  const Spec* find_short(char c) const;
  const Spec* find_long(std::string_view name) const;
  std::vector<Spec> specs_;
};

// Converts argv[1..argc) to string_views.
std::vector<std::string_view> args_of(int argc, char** argv);

// Value parsers; @what names the option in the UsageError.
std::uint64_t parse_uint(std::string_view s, std::string_view what);
double parse_double(std::string_view s, std::string_view what);
// A byte count with an optional K, M or G suffix (powers of 1024).
std::uint64_t parse_size(std::string_view s, std::string_view what);

}  // namespace mmscale

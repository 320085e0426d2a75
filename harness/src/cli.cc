#include "cli.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "error.h"

namespace mmscale {

void ArgParser::flag(char short_name, std::string_view long_name, std::string_view help,
                     FlagHandler fn) {
  specs_.push_back({short_name, std::string(long_name), "", std::string(help), std::move(fn), {}});
}

void ArgParser::option(char short_name, std::string_view long_name, std::string_view metavar,
                       std::string_view help, ValueHandler fn) {
  specs_.push_back({short_name,
                    std::string(long_name),
                    std::string(metavar),
                    std::string(help),
                    {},
                    std::move(fn)});
}

const ArgParser::Spec* ArgParser::find_short(char c) const {
  for (const Spec& s : specs_)
    if (s.short_name != 0 && s.short_name == c) return &s;
  return nullptr;
}

const ArgParser::Spec* ArgParser::find_long(std::string_view name) const {
  for (const Spec& s : specs_)
    if (!s.long_name.empty() && s.long_name == name) return &s;
  return nullptr;
}

std::vector<std::string> ArgParser::parse(std::span<const std::string_view> args) const {
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "--") {
      for (++i; i < args.size(); ++i) positional.emplace_back(args[i]);
      break;
    }
    if (a.starts_with("--")) {
      std::string_view name = a.substr(2), value;
      const auto eq = name.find('=');
      const bool has_value = eq != std::string_view::npos;
      if (has_value) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      const Spec* s = find_long(name);
      if (s == nullptr) throw UsageError("unknown option --" + std::string(name));
      if (s->metavar.empty()) {
        if (has_value) throw UsageError("option --" + std::string(name) + " takes no value");
        s->on_flag();
        continue;
      }
      if (!has_value) {
        if (++i >= args.size())
          throw UsageError("option --" + std::string(name) + " needs a value");
        value = args[i];
      }
      s->on_value(value);
      continue;
    }
    if (a.size() < 2 || a[0] != '-') {
      positional.emplace_back(a);
      continue;
    }
    for (std::size_t k = 1; k < a.size(); ++k) {
      const Spec* s = find_short(a[k]);
      if (s == nullptr) throw UsageError(std::string("unknown option -") + a[k]);
      if (s->metavar.empty()) {
        s->on_flag();
        continue;
      }
      std::string_view value = a.substr(k + 1);
      if (value.empty()) {
        if (++i >= args.size()) throw UsageError(std::string("option -") + a[k] + " needs a value");
        value = args[i];
      }
      s->on_value(value);
      break;
    }
  }
  return positional;
}

std::string ArgParser::help() const {
  std::string out;
  for (const Spec& s : specs_) {
    std::string left = "  ";
    if (s.short_name != 0) left += std::string("-") + s.short_name;
    if (s.short_name != 0 && !s.long_name.empty()) left += ", ";
    if (!s.long_name.empty()) left += "--" + s.long_name;
    if (!s.metavar.empty()) left += " " + s.metavar;
    if (left.size() < 24)
      left.resize(24, ' ');
    else
      left += ' ';
    out += left + s.help + "\n";
  }
  return out;
}

std::vector<std::string_view> args_of(int argc, char** argv) {
  std::vector<std::string_view> v;
  for (int i = 1; i < argc; ++i) v.emplace_back(argv[i]);
  return v;
}

std::uint64_t parse_uint(std::string_view s, std::string_view what) {
  std::uint64_t v = 0;
  int base = 10;
  std::string_view digits = s;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    base = 16;
    digits.remove_prefix(2);
  }
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
    throw UsageError("invalid value '" + std::string(s) + "' for " + std::string(what));
  return v;
}

double parse_double(std::string_view s, std::string_view what) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
    throw UsageError("invalid value '" + std::string(s) + "' for " + std::string(what));
  return v;
}

std::uint64_t parse_size(std::string_view s, std::string_view what) {
  std::uint64_t mult = 1;
  std::string_view num = s;
  if (!num.empty()) {
    switch (num.back()) {
      case 'k':
      case 'K':
        mult = 1ULL << 10;
        break;
      case 'm':
      case 'M':
        mult = 1ULL << 20;
        break;
      case 'g':
      case 'G':
        mult = 1ULL << 30;
        break;
      default:
        break;
    }
    if (mult != 1) num.remove_suffix(1);
  }
  const std::uint64_t v = parse_uint(num, what);
  if (v > std::numeric_limits<std::uint64_t>::max() / mult)
    throw UsageError("value '" + std::string(s) + "' too large for " + std::string(what));
  return v * mult;
}

}  // namespace mmscale

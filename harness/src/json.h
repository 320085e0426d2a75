// A small JSON value: enough to write the tools' output and to read the
// JSON-lines results files.  Objects keep their keys in insertion order.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mmscale {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;  // null
  Json(std::nullptr_t) {}
  Json(bool b) : v_(b) {}
  Json(double d) : v_(d) {}
  Json(int i) : v_(static_cast<double>(i)) {}
  Json(unsigned u) : v_(static_cast<double>(u)) {}
  Json(std::int64_t i) : v_(static_cast<double>(i)) {}
  Json(std::uint64_t u) : v_(static_cast<double>(u)) {}
  Json(const char* s) : v_(std::string(s)) {}
  Json(std::string s) : v_(std::move(s)) {}
  Json(std::string_view s) : v_(std::string(s)) {}
  Json(Array a) : v_(std::move(a)) {}
  Json(Object o) : v_(std::move(o)) {}

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(v_); }
  bool is_number() const { return std::holds_alternative<double>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_object() const { return std::holds_alternative<Object>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }

  // Typed access; throws std::runtime_error on a type mismatch.
  double as_number() const;
  const std::string& as_string() const;
  const Object& as_object() const;
  const Array& as_array() const;

  // Object member or nullptr.
  const Json* find(std::string_view key) const;
  // Appends a member (object) or an element (array); a null becomes one.
  Json& set(std::string key, Json value);
  Json& push(Json value);

  // Compact single-line text.
  std::string dump() const;

 private:
  void dump_to(std::string& out) const;
  std::variant<std::nullptr_t, bool, double, std::string, Array, Object> v_;
};

// A syntax error: @column is 1-based.
class JsonError : public std::runtime_error {
 public:
  JsonError(std::size_t column, const std::string& what)
      : std::runtime_error("column " + std::to_string(column) + ": " + what), column_(column) {}
  std::size_t column() const { return column_; }

 private:
  std::size_t column_;
};

// Parses exactly one JSON value (surrounding white space allowed).
Json parse_json(std::string_view text);

// Number formatting used everywhere: integers without a fraction, other
// values with up to 17 significant digits, NaN/inf as null.
std::string format_number(double d);
std::string json_quote(std::string_view s);

}  // namespace mmscale

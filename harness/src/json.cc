#include "json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace mmscale {

double Json::as_number() const {
  if (const double* d = std::get_if<double>(&v_)) return *d;
  throw std::runtime_error("JSON value is not a number");
}

const std::string& Json::as_string() const {
  if (const std::string* s = std::get_if<std::string>(&v_)) return *s;
  throw std::runtime_error("JSON value is not a string");
}

const Json::Object& Json::as_object() const {
  if (const Object* o = std::get_if<Object>(&v_)) return *o;
  throw std::runtime_error("JSON value is not an object");
}

const Json::Array& Json::as_array() const {
  if (const Array* a = std::get_if<Array>(&v_)) return *a;
  throw std::runtime_error("JSON value is not an array");
}

const Json* Json::find(std::string_view key) const {
  const Object* o = std::get_if<Object>(&v_);
  if (o == nullptr) return nullptr;
  for (const auto& [k, v] : *o)
    if (k == key) return &v;
  return nullptr;
}

Json& Json::set(std::string key, Json value) {
  if (is_null()) v_ = Object{};
  std::get<Object>(v_).emplace_back(std::move(key), std::move(value));
  return *this;
}

Json& Json::push(Json value) {
  if (is_null()) v_ = Array{};
  std::get<Array>(v_).push_back(std::move(value));
  return *this;
}

std::string format_number(double d) {
  if (!std::isfinite(d)) return "null";
  if (d == std::trunc(d) && std::abs(d) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", d);
    return buf;
  }
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, end);
}

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string Json::dump() const {
  std::string out;
  dump_to(out);
  return out;
}

void Json::dump_to(std::string& out) const {
  if (is_null()) {
    out += "null";
  } else if (const bool* b = std::get_if<bool>(&v_)) {
    out += *b ? "true" : "false";
  } else if (const double* d = std::get_if<double>(&v_)) {
    out += format_number(*d);
  } else if (const std::string* s = std::get_if<std::string>(&v_)) {
    out += json_quote(*s);
  } else if (const Array* a = std::get_if<Array>(&v_)) {
    out += '[';
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (i != 0) out += ',';
      (*a)[i].dump_to(out);
    }
    out += ']';
  } else {
    const Object& o = std::get<Object>(v_);
    out += '{';
    for (std::size_t i = 0; i < o.size(); ++i) {
      if (i != 0) out += ',';
      out += json_quote(o[i].first);
      out += ':';
      o[i].second.dump_to(out);
    }
    out += '}';
  }
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}

  Json document() {
    Json v = value();
    skip_ws();
    if (pos_ != t_.size()) fail("unexpected text after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw JsonError(pos_ + 1, what); }

  void skip_ws() {
    while (pos_ < t_.size() &&
           (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r'))
      ++pos_;
  }

  char peek() {
    skip_ws();
    if (pos_ >= t_.size()) fail("unexpected end of input");
    return t_[pos_];
  }

  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  bool literal(std::string_view word) {
    if (t_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Json value() {
    if (++depth_ > 64) fail("nesting too deep");
    Json v;
    const char c = peek();
    if (c == '{') {
      v = object();
    } else if (c == '[') {
      v = array();
    } else if (c == '"') {
      v = Json(string());
    } else if (literal("true")) {
      v = Json(true);
    } else if (literal("false")) {
      v = Json(false);
    } else if (literal("null")) {
      v = Json(nullptr);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v = Json(number());
    } else {
      fail(std::string("unexpected character '") + c + "'");
    }
    --depth_;
    return v;
  }

  Json object() {
    expect('{');
    Json o = Json(Json::Object{});
    if (peek() == '}') {
      ++pos_;
      return o;
    }
    for (;;) {
      if (peek() != '"') fail("expected a string key");
      std::string key = string();
      expect(':');
      o.set(std::move(key), value());
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      return o;
    }
  }

  Json array() {
    expect('[');
    Json a = Json(Json::Array{});
    if (peek() == ']') {
      ++pos_;
      return a;
    }
    for (;;) {
      a.push(value());
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(']');
      return a;
    }
  }

  double number() {
    const std::size_t start = pos_;
    while (pos_ < t_.size() &&
           std::string_view("+-0123456789.eE").find(t_[pos_]) != std::string_view::npos)
      ++pos_;
    double d = 0;
    const auto [end, ec] = std::from_chars(t_.data() + start, t_.data() + pos_, d);
    if (ec != std::errc() || end != t_.data() + pos_) {
      pos_ = start;
      fail("malformed number");
    }
    return d;
  }

  std::string string() {
    expect('"');
    std::string s;
    while (pos_ < t_.size()) {
      const char c = t_[pos_++];
      if (c == '"') return s;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        s += c;
        continue;
      }
      if (pos_ >= t_.size()) break;
      const char e = t_[pos_++];
      switch (e) {
        case '"':
          s += '"';
          break;
        case '\\':
          s += '\\';
          break;
        case '/':
          s += '/';
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case 'n':
          s += '\n';
          break;
        case 'r':
          s += '\r';
          break;
        case 't':
          s += '\t';
          break;
        case 'u': {
          unsigned cp = 0;
          const auto [end, ec] =
              std::from_chars(t_.data() + pos_, t_.data() + std::min(pos_ + 4, t_.size()), cp, 16);
          if (ec != std::errc() || end != t_.data() + pos_ + 4) fail("bad \\u escape");
          pos_ += 4;
          // UTF-8 encode (surrogate pairs are not combined; fine for our data).
          if (cp < 0x80) {
            s += static_cast<char>(cp);
          } else if (cp < 0x800) {
            s += static_cast<char>(0xc0 | (cp >> 6));
            s += static_cast<char>(0x80 | (cp & 0x3f));
          } else {
            s += static_cast<char>(0xe0 | (cp >> 12));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            s += static_cast<char>(0x80 | (cp & 0x3f));
          }
          break;
        }
        default:
          fail("bad escape in string");
      }
    }
    fail("unterminated string");
  }

  std::string_view t_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Json parse_json(std::string_view text) { return Parser(text).document(); }

}  // namespace mmscale

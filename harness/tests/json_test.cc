#include "json.h"

#include <gtest/gtest.h>

namespace mmscale {
namespace {

TEST(Json, RoundTrip) {
  const std::string text =
      R"({"a":1,"b":-2.5,"c":"x\"y\n","d":[true,false,null],"e":{"f":[]},"g":1e+20})";
  const Json j = parse_json(text);
  EXPECT_DOUBLE_EQ(j.find("a")->as_number(), 1);
  EXPECT_DOUBLE_EQ(j.find("b")->as_number(), -2.5);
  EXPECT_EQ(j.find("c")->as_string(), "x\"y\n");
  EXPECT_EQ(j.find("d")->as_array().size(), 3u);
  EXPECT_EQ(parse_json(j.dump()).dump(), j.dump());
  EXPECT_EQ(Json().set("k", 3).set("s", "v").dump(), R"({"k":3,"s":"v"})");
}

TEST(Json, NumbersFormat) {
  EXPECT_EQ(format_number(42), "42");
  EXPECT_EQ(format_number(0.5), "0.5");
  EXPECT_EQ(format_number(1.0 / 0.0), "null");
}

TEST(Json, SyntaxErrorsNameTheColumn) {
  try {
    parse_json(R"({"a": 1,})");
    FAIL() << "no exception";
  } catch (const JsonError& e) {
    EXPECT_EQ(e.column(), 9u);
  }
  EXPECT_THROW(parse_json("{"), JsonError);
  EXPECT_THROW(parse_json(R"({"a" 1})"), JsonError);
  EXPECT_THROW(parse_json("[1] x"), JsonError);
  EXPECT_THROW(parse_json(R"("unterminated)"), JsonError);
  EXPECT_THROW(parse_json("01x"), JsonError);
}

}  // namespace
}  // namespace mmscale

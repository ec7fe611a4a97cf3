// libFuzzer target for the HTTP layer's hand-written text code: request
// targets (http/url.h) and the JSON writer of the hottest answers
// (http/json_text.h).
//
// The whole input is the text. The target checks:
//   - IsValidUtf8 agrees with an independent decoder written here;
//   - PercentDecode, with and without '+' as a space, gives valid UTF-8
//     without NUL bytes or an error (the promise url.h makes to handlers);
//     text without '%' (and '+') decodes to itself; escaping every byte of
//     a result and decoding that gives the result back;
//   - ParseQuery's pairs hold to the same, number at most the pieces between
//     '&', and survive being written back escaped and parsed again;
//   - every error message is one of url.h's templates with only an offset
//     filled in: none holds the input;
//   - AppendJsonString writes one JSON string without raw control bytes, which
//     nlohmann reads back as the input whenever the input is UTF-8;
//   - JsonText, driven by the input as a list of operations, writes JSON that
//     nlohmann reads as the same tree nlohmann built from those operations,
//     and refuses (throws std::invalid_argument) exactly the string values
//     that are not UTF-8.
// A broken invariant aborts with a message; ASan/UBSan catch memory errors.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/json_text.h"
#include "http/url.h"
#include "fuzz_util.h"

namespace custodian::http {
namespace {

using fuzz::Check;
using fuzz::Masked;
using fuzz::ReferenceUtf8;

std::string EscapeAll(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[u >> 4];
    out += kHex[u & 0xF];
  }
  return out;
}

// An error message is one of url.h's templates with only an offset filled
// in (and, from ParseQuery, which part of a pair it is about): no byte of the
// input can reach a log through it.
void CheckMessage(const Status& st) {
  static const char* const kTemplates[] = {
      "invalid percent-escape at offset 0", "percent-escape of a NUL byte at offset 0",
      "a NUL byte at offset 0", "decoded text is not valid UTF-8"};
  const std::string m = Masked(st.message());
  for (const char* prefix : {"", "query parameter name: ", "query parameter value: "}) {
    for (const char* t : kTemplates) {
      if (m == Masked(std::string(prefix) + t)) return;
    }
  }
  std::fprintf(stderr, "http_text_fuzz: unknown message: %s\n", st.message().c_str());
  std::abort();
}

bool Clean(std::string_view s) {
  return ReferenceUtf8(s) && s.find('\0') == std::string_view::npos;
}

void FuzzDecode(std::string_view in, bool plus) {
  auto out = PercentDecode(in, plus);
  if (!out.ok()) {
    CheckMessage(out.status());
    const bool plain = in.find('%') == std::string_view::npos;
    if (plain) Check(!Clean(in), "plain clean text refused");
    return;
  }
  Check(Clean(*out), "a decoded value that is not UTF-8 or holds a NUL");
  const bool verbatim = in.find('%') == std::string_view::npos &&
                        (!plus || in.find('+') == std::string_view::npos);
  if (verbatim) Check(*out == in, "text without escapes decodes otherwise");
  auto again = PercentDecode(EscapeAll(*out), plus);
  Check(again.ok() && *again == *out, "an escaped value decodes otherwise");
}

void FuzzQuery(std::string_view in) {
  auto params = ParseQuery(in);
  if (!params.ok()) {
    CheckMessage(params.status());
    return;
  }
  size_t pieces = 1;
  for (char c : in) pieces += c == '&';
  Check(params->size() <= pieces, "more pairs than pieces");
  std::string rebuilt;
  for (const auto& [name, value] : *params) {
    Check(Clean(name) && Clean(value), "a query pair that is not UTF-8 or holds a NUL");
    if (!rebuilt.empty()) rebuilt += '&';
    rebuilt += EscapeAll(name) + "=" + EscapeAll(value);
  }
  auto again = ParseQuery(rebuilt);
  Check(again.ok(), "a rebuilt query is refused");
  // A pair with an empty name and value ("=") is written as "=" and kept.
  Check(*again == *params, "a rebuilt query parses otherwise");
}

void FuzzJsonString(std::string_view in) {
  std::string out = "x";
  AppendJsonString(out, in);
  Check(out.size() >= 3 && out[0] == 'x' && out[1] == '"' && out.back() == '"',
        "not one JSON string appended");
  for (char c : out) {
    const auto u = static_cast<unsigned char>(c);
    Check(u >= 0x20 && u != 0x7F, "a raw control byte in a JSON string");
  }
  if (!ReferenceUtf8(in)) return;
  auto j = nlohmann::json::parse(out.substr(1), nullptr, /*allow_exceptions=*/false);
  Check(j.is_string() && j.get<std::string>() == in, "a JSON string reads back otherwise");
}

// Reads the input as operations on a JsonText and on an nlohmann tree at
// once; strings come from the input itself.
class Driver {
 public:
  explicit Driver(std::string_view in) : in_(in) {}

  void Run() {
    JsonText text;
    nlohmann::ordered_json tree = nlohmann::ordered_json::object();
    text.BeginObject();
    bool refused = false;
    try {
      Members(text, tree, 0);
    } catch (const std::invalid_argument&) {
      refused = true;
    }
    Check(refused == bad_string_, "JsonText refused otherwise than for a non-UTF-8 string");
    if (refused) return;
    text.EndObject();
    const std::string written = std::move(text).Take();
    auto read = nlohmann::ordered_json::parse(written, nullptr, /*allow_exceptions=*/false);
    Check(!read.is_discarded(), "JsonText wrote invalid JSON");
    Check(read == tree, "JsonText wrote another tree than the operations built");
  }

 private:
  uint8_t Byte() {
    if (pos_ >= in_.size()) return 0;
    return static_cast<uint8_t>(in_[pos_++]);
  }
  std::string Text() {
    const size_t n = std::min<size_t>(Byte() % 24, in_.size() - pos_);
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  int64_t Number() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | Byte();
    return static_cast<int64_t>(v);
  }
  void Value(JsonText& text, nlohmann::ordered_json& slot, int depth) {
    switch (Byte() % 6) {
      case 0: {
        std::string s = Text();
        if (!ReferenceUtf8(s)) {
          bad_string_ = true;
          text.String(s);  // throws
        }
        slot = s;
        text.String(s);
        break;
      }
      case 1: {
        const int64_t v = Number();
        slot = v;
        text.Int(v);
        break;
      }
      case 2: {
        const bool b = Byte() & 1;
        slot = b;
        text.Bool(b);
        break;
      }
      case 3:
        slot = nullptr;
        text.Null();
        break;
      case 4:
        slot = nlohmann::ordered_json::object();
        text.BeginObject();
        if (depth < 8) Members(text, slot, depth + 1);
        text.EndObject();
        break;
      default:
        slot = nlohmann::ordered_json::array();
        text.BeginArray();
        if (depth < 8) {
          for (int n = Byte() % 5; n > 0 && pos_ < in_.size(); --n) {
            slot.push_back(nullptr);
            Value(text, slot.back(), depth + 1);
          }
        }
        text.EndArray();
        break;
    }
  }
  void Members(JsonText& text, nlohmann::ordered_json& obj, int depth) {
    for (int n = Byte() % 5; n > 0 && pos_ < in_.size(); --n) {
      // Keys are the code's own constants: UTF-8 by construction.
      std::string key = Text();
      if (!ReferenceUtf8(key)) key = "k" + std::to_string(n);
      if (obj.contains(key)) return;  // a JSON object names a member once
      text.Key(key);
      Value(text, obj[key], depth);
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
  bool bad_string_ = false;
};

}  // namespace
}  // namespace custodian::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace custodian::http;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Check(IsValidUtf8(in) == ReferenceUtf8(in), "IsValidUtf8 disagrees with the reference decoder");
  FuzzDecode(in, false);
  FuzzDecode(in, true);
  FuzzQuery(in);
  FuzzJsonString(in);
  Driver(in).Run();
  return 0;
}

#include "http/json_text.h"

#include <stdexcept>

#include "http/url.h"

namespace custodian::http {

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void JsonText::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_member_.empty()) {
    if (has_member_.back()) out_ += ',';
    has_member_.back() = true;
  }
}

JsonText& JsonText::Open(char bracket) {
  BeforeValue();
  out_ += bracket;
  has_member_.push_back(false);
  return *this;
}

JsonText& JsonText::Close(char bracket) {
  out_ += bracket;
  has_member_.pop_back();
  return *this;
}

JsonText& JsonText::BeginObject() { return Open('{'); }
JsonText& JsonText::EndObject() { return Close('}'); }
JsonText& JsonText::BeginArray() { return Open('['); }
JsonText& JsonText::EndArray() { return Close(']'); }

JsonText& JsonText::Key(std::string_view key) {
  BeforeValue();
  AppendJsonString(out_, key);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonText& JsonText::String(std::string_view value) {
  if (!IsValidUtf8(value)) throw std::invalid_argument("a JSON string is not valid UTF-8");
  BeforeValue();
  AppendJsonString(out_, value);
  return *this;
}

JsonText& JsonText::Int(int64_t value) {
  BeforeValue();
  out_ += std::to_string(value);
  return *this;
}

JsonText& JsonText::Bool(bool value) {
  BeforeValue();
  out_ += value ? "true" : "false";
  return *this;
}

JsonText& JsonText::Null() {
  BeforeValue();
  out_ += "null";
  return *this;
}

std::string JsonText::Take() && { return std::move(out_); }

}  // namespace custodian::http

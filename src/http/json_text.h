// JsonText: JSON written straight into a string, for the answers the server
// gives most (lookups, calls, a subject): building an nlohmann tree of a
// subject's fields and then dumping it cost ~8% of a lookup's CPU. Other
// routes keep nlohmann, which is clearer where speed does not matter.
//
//   JsonText j;
//   j.BeginObject().Key("id").String(id).Key("fields").BeginArray();
//   ...
//   std::string body = std::move(j).Take();
//
// Commas are placed for the caller. Strings must be UTF-8: String() throws
// std::invalid_argument otherwise (as nlohmann's dump does), so a handler's
// caller answers 500 rather than send malformed JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace custodian::http {

// Appends `s` as a JSON string literal: '"', '\\' and control characters
// (and DEL) escaped, everything else as is. The bytes are not checked.
void AppendJsonString(std::string& out, std::string_view s);

class JsonText {
 public:
  JsonText& BeginObject();
  JsonText& EndObject();
  JsonText& BeginArray();
  JsonText& EndArray();
  JsonText& Key(std::string_view key);
  JsonText& String(std::string_view value);
  JsonText& Int(int64_t value);
  JsonText& Bool(bool value);
  JsonText& Null();
  // The text; only once every object and array is closed.
  std::string Take() &&;

 private:
  void BeforeValue();
  JsonText& Open(char bracket);
  JsonText& Close(char bracket);
  std::string out_;
  std::vector<bool> has_member_;  // per open container: something written in it
  bool after_key_ = false;
};

}  // namespace custodian::http

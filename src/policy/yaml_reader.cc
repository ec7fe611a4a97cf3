#include "policy/yaml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "policy/suggest.h"

namespace custodian::policy::internal {

TextPositions::TextPositions(std::string_view text) : text_(text) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') line_starts_.push_back(i + 1);
  }
}

SourcePos TextPositions::At(std::size_t line_index, std::size_t byte_column) const {
  if (line_index >= line_starts_.size()) return {static_cast<int>(line_index) + 1, 1};
  std::size_t start = line_starts_[line_index];
  std::size_t end = std::min(start + byte_column, text_.size());
  int column = 1;
  for (std::size_t i = start; i < end; ++i) {
    // Count code points: every byte except UTF-8 continuation bytes starts one.
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
  }
  return {static_cast<int>(line_index) + 1, column};
}

SourcePos TextPositions::At(const YAML::Mark& mark) const {
  if (mark.line < 0 || mark.column < 0) return {};
  return At(static_cast<std::size_t>(mark.line), static_cast<std::size_t>(mark.column));
}

SourcePos TextPositions::AtOffset(std::size_t offset) const {
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  std::size_t line_index = static_cast<std::size_t>(it - line_starts_.begin()) - 1;
  return At(line_index, offset - line_starts_[line_index]);
}

std::string_view TextPositions::Line(int line) const {
  if (line < 1 || static_cast<std::size_t>(line) > line_starts_.size()) return {};
  std::size_t start = line_starts_[line - 1];
  std::size_t end =
      static_cast<std::size_t>(line) < line_starts_.size() ? line_starts_[line] - 1 : text_.size();
  std::string_view s = text_.substr(start, end - start);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

SourcePos YamlReader::Pos(const YAML::Node& node, SourcePos fallback) const {
  if (!node.IsDefined() || node.IsNull()) return fallback;
  SourcePos pos = positions_.At(node.Mark());
  return pos.line > 0 ? pos : fallback;
}

std::string YamlReader::In(const std::string& context) {
  return context.empty() ? std::string() : " in " + context;
}

std::string YamlReader::Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      break;
  }
  const std::string& s = node.Scalar();
  if (s.empty()) return "empty text";
  if (s.size() > 40) return fmt::format("text '{}...'", s.substr(0, 37));
  return fmt::format("text '{}'", s);
}

std::string YamlReader::JoinNames(std::span<const std::string_view> names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

std::vector<MapEntry> YamlReader::Entries(const YAML::Node& map, const std::string& context,
                                          std::span<const std::string_view> allowed) {
  std::vector<MapEntry> entries;
  std::map<std::string, SourcePos> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    // Copies: the iterator's operator-> returns a temporary proxy.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    SourcePos pos = Pos(key, Pos(map, {}));
    if (!key.IsScalar()) {
      sink_.Error(pos,
                  fmt::format("a key{} must be plain text, found {}", In(context), Describe(key)));
      continue;
    }
    std::string name = key.Scalar();
    auto [first, inserted] = seen.emplace(name, pos);
    if (!inserted) {
      sink_.Error(pos, fmt::format("duplicate key '{}'{}, first defined at line {}; remove one of "
                                   "them",
                                   name, context.empty() ? " at the top level" : In(context),
                                   first->second.line));
      continue;
    }
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::optional<std::string> guess = ClosestMatch(name, allowed);
      std::string where = context.empty() ? " at the top level" : In(context);
      if (guess) {
        sink_.Error(pos, fmt::format("unknown key '{}'{}; did you mean '{}'? Allowed keys: {}",
                                     name, where, *guess, JoinNames(allowed)));
      } else {
        sink_.Error(pos, fmt::format("unknown key '{}'{}; allowed keys: {}", name, where,
                                     JoinNames(allowed)));
      }
      continue;
    }
    entries.push_back({std::move(name), pos, value});
  }
  return entries;
}

void YamlReader::WrongType(const MapEntry& e, const std::string& context, std::string_view expected,
                           std::string_view hint) {
  sink_.Error(ValuePos(e), fmt::format("'{}'{} must be {}, found {}{}", e.key, In(context),
                                       expected, Describe(e.value), hint));
}

bool YamlReader::ExpectMap(const MapEntry& e, const std::string& context, bool empty_ok) {
  if (e.value.IsMap() || (empty_ok && e.value.IsNull())) return true;
  WrongType(e, context, "a mapping of keys to values");
  return false;
}

std::optional<std::string> YamlReader::Text(const MapEntry& e, const std::string& context) {
  if (!e.value.IsScalar()) {
    WrongType(e, context, "text");
    return std::nullopt;
  }
  if (e.value.Scalar().empty()) {
    sink_.Error(ValuePos(e), fmt::format("'{}'{} is empty; expected text", e.key, In(context)));
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<bool> YamlReader::Bool(const MapEntry& e, const std::string& context) {
  if (e.value.IsScalar()) {
    const std::string& s = e.value.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  WrongType(e, context, "true or false");
  return std::nullopt;
}

std::optional<int64_t> YamlReader::Integer(const MapEntry& e, const std::string& context) {
  if (e.value.IsScalar()) {
    std::string_view s = e.value.Scalar();
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) return v;
  }
  WrongType(e, context, "a whole number");
  return std::nullopt;
}

std::optional<std::vector<ListItem>> YamlReader::TextList(const MapEntry& e,
                                                          const std::string& context) {
  if (!e.value.IsSequence()) {
    std::string hint;
    if (e.value.IsScalar() && !e.value.Scalar().empty()) {
      hint = fmt::format("; write a list, e.g. [{}]", e.value.Scalar());
    }
    WrongType(e, context, "a list", hint);
    return std::nullopt;
  }
  std::vector<ListItem> items;
  std::map<std::string, SourcePos> seen;
  for (const YAML::Node& item : e.value) {
    SourcePos pos = Pos(item, ValuePos(e));
    if (!item.IsScalar() || item.Scalar().empty()) {
      sink_.Error(pos, fmt::format("each item of '{}'{} must be text, found {}", e.key, In(context),
                                   Describe(item)));
      continue;
    }
    auto [first, inserted] = seen.emplace(item.Scalar(), pos);
    if (!inserted) {
      sink_.Error(pos, fmt::format("'{}' is listed twice in '{}'{} (first at line {}); remove one",
                                   item.Scalar(), e.key, In(context), first->second.line));
      continue;
    }
    items.push_back({item.Scalar(), pos});
  }
  return items;
}

bool YamlReader::CheckOneOf(const std::string& value, SourcePos pos, const std::string& key,
                            const std::string& context, std::span<const std::string_view> allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return true;
  std::optional<std::string> guess = ClosestMatch(value, allowed);
  std::string expected = guess ? fmt::format("did you mean '{}'? Expected", *guess) : "expected";
  sink_.Error(pos, fmt::format("unknown value '{}' for '{}'{}; {} one of: {}", value, key,
                               In(context), expected, JoinNames(allowed)));
  return false;
}

std::optional<std::string> YamlReader::OneOf(const MapEntry& e, const std::string& context,
                                             std::span<const std::string_view> allowed) {
  std::optional<std::string> text = Text(e, context);
  if (!text || !CheckOneOf(*text, ValuePos(e), e.key, context, allowed)) return std::nullopt;
  return text;
}

std::optional<std::vector<ListItem>> YamlReader::OneOfList(
    const MapEntry& e, const std::string& context, std::span<const std::string_view> allowed) {
  std::optional<std::vector<ListItem>> items = TextList(e, context);
  if (!items) return std::nullopt;
  std::erase_if(*items, [&](const ListItem& item) {
    return !CheckOneOf(item.value, item.pos, e.key, context, allowed);
  });
  return items;
}

}  // namespace custodian::policy::internal

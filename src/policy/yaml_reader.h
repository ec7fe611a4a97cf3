// Reading yaml-cpp nodes with diagnostics (internal to the policy layer).
//
// yaml-cpp gives 0-based marks that count bytes; TextPositions turns them into
// the 1-based line and character column people see in their editor.
// YamlReader reads mappings with a closed set of keys, scalars and lists, and
// reports every shape problem (unknown or duplicate key, wrong type) to a
// DiagnosticSink instead of throwing. Not thread-safe: one per load.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/diagnostics.h"
#include "policy/model.h"

namespace custodian::policy::internal {

class TextPositions {
 public:
  // `text` must outlive this object.
  explicit TextPositions(std::string_view text);
  // Position of a yaml-cpp mark; {0, 0} for a null mark.
  SourcePos At(const YAML::Mark& mark) const;
  // Position of the byte at `offset`.
  SourcePos AtOffset(std::size_t offset) const;
  // The text of 1-based `line`, without its line break; empty when out of range.
  std::string_view Line(int line) const;

 private:
  SourcePos At(std::size_t line_index, std::size_t byte_column) const;

  std::string_view text_;
  std::vector<std::size_t> line_starts_;
};

// A key and its value in a mapping.
struct MapEntry {
  std::string key;
  SourcePos pos;  // of the key
  YAML::Node value;
};

// An item of a list of text.
struct ListItem {
  std::string value;
  SourcePos pos;
};

class YamlReader {
 public:
  YamlReader(const TextPositions& positions, DiagnosticSink& sink)
      : positions_(positions), sink_(sink) {}

  DiagnosticSink& sink() { return sink_; }
  // Where `node` starts; `fallback` when yaml-cpp has no mark for it (an empty value).
  SourcePos Pos(const YAML::Node& node, SourcePos fallback) const;
  SourcePos ValuePos(const MapEntry& e) const { return Pos(e.value, e.pos); }

  // In every function below `context` names the mapping in messages
  // ("category 'user.name'", "organization"); empty means the top level.

  // The entries of `map` (which must be a mapping) in document order. Reports
  // and drops keys that are not plain text, repeated keys (the first wins)
  // and, when `allowed` is not empty, keys outside `allowed`.
  std::vector<MapEntry> Entries(const YAML::Node& map, const std::string& context,
                                std::span<const std::string_view> allowed = {});

  // Checks that e.value is a mapping, or empty (taken as an empty mapping when
  // `empty_ok`). Reports and returns false otherwise.
  bool ExpectMap(const MapEntry& e, const std::string& context, bool empty_ok);

  // Value readers. Each reports a value of the wrong shape ("'label' in
  // category 'x' must be text, found a list") and returns nullopt.
  std::optional<std::string> Text(const MapEntry& e, const std::string& context);
  std::optional<bool> Bool(const MapEntry& e, const std::string& context);
  std::optional<int64_t> Integer(const MapEntry& e, const std::string& context);
  // A list of non-empty text items; repeated items are reported and dropped.
  std::optional<std::vector<ListItem>> TextList(const MapEntry& e, const std::string& context);
  // Text that must be one of `allowed` (did-you-mean when close).
  std::optional<std::string> OneOf(const MapEntry& e, const std::string& context,
                                   std::span<const std::string_view> allowed);
  // Like TextList, every item one of `allowed`; unknown items are reported and dropped.
  std::optional<std::vector<ListItem>> OneOfList(const MapEntry& e, const std::string& context,
                                                 std::span<const std::string_view> allowed);
  // Reports `value` at `pos` unless it is one of `allowed`.
  bool CheckOneOf(const std::string& value, SourcePos pos, const std::string& key,
                  const std::string& context, std::span<const std::string_view> allowed);

  // " in <context>", or "" for the top level.
  static std::string In(const std::string& context);
  // How a node reads in a message: "text 'abc'", "a list", "a mapping", "nothing".
  static std::string Describe(const YAML::Node& node);
  // "a, b, c"
  static std::string JoinNames(std::span<const std::string_view> names);

 private:
  void WrongType(const MapEntry& e, const std::string& context, std::string_view expected,
                 std::string_view hint = {});

  const TextPositions& positions_;
  DiagnosticSink& sink_;
};

}  // namespace custodian::policy::internal

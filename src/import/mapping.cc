#include "import/mapping.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>

#include "audit/event.h"

namespace custodian::import {
namespace {

constexpr char kExpected[] =
    "expected a category key declared in the policy, external_id or ignore";
constexpr char kExpectedRecords[] = "expected at, data.NAME, data.NAME:string, external_id or ignore";

// A name or value from the mapping file, quoted; a control character (a
// block scalar's line break) is written \xNN so that each error stays one line.
std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += "\\x" + audit::HexEncode(std::string_view(&c, 1));
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

bool ValidDataName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

class Checker {
 public:
  Checker(const std::string& source, const std::vector<std::string>& header,
          const policy::Policy& policy, const MappingOptions& options)
      : source_(source), header_(header), policy_(policy), options_(options) {
    mapping_.columns.resize(header.size());
    mapped_.resize(header.size(), false);
  }

  // A node without a place (an empty document) is placed at its start.
  void Error(const YAML::Mark& mark, const std::string& message) {
    const int line = mark.is_null() ? 1 : mark.line + 1;
    const int column = mark.is_null() ? 1 : mark.column + 1;
    errors_.push_back(source_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                      message);
  }

  void Root(const YAML::Node& root) {
    if (!root.IsMap()) {
      Error(root.Mark(), "expected a mapping with a `columns:` map, e.g. `columns: {customer_id: "
                         "external_id}`");
      return;
    }
    YAML::Node columns;
    bool found = false;
    for (auto it = root.begin(); it != root.end(); ++it) {
      std::string key = it->first.Scalar();
      if (key == "columns") {
        columns = it->second;
        found = true;
        columns_mark_ = it->first.Mark();
      } else {
        Error(it->first.Mark(), "unknown key " + Quote(key) + "; expected `columns`");
      }
    }
    if (!found) {
      Error(root.Mark(), "no `columns:` map; it names what each CSV column holds");
      return;
    }
    if (!columns.IsMap()) {  // an empty value has no place of its own: its key's
      Error(columns.IsNull() ? columns_mark_ : columns.Mark(),
            "`columns` must be a map of CSV column name to what it holds");
      return;
    }
    std::set<std::string> seen;
    for (auto it = columns.begin(); it != columns.end(); ++it) {
      Column(it->first, it->second, seen);
    }
  }

  void Column(const YAML::Node& key, const YAML::Node& value, std::set<std::string>& seen) {
    const YAML::Mark mark = key.Mark();
    if (!key.IsScalar()) {
      Error(mark, "a column name must be text");
      return;
    }
    const std::string name = key.Scalar();
    if (!seen.insert(name).second) {
      Error(mark, "column " + Quote(name) + " is named twice");
      return;
    }
    int index = -1;
    for (std::size_t i = 0; i < header_.size(); ++i) {
      if (header_[i] == name) index = static_cast<int>(i);
    }
    if (index < 0) {
      Error(mark, "column " + Quote(name) + " is not in the header of " + options_.csv_name +
                      " (its columns: " + Join(header_) + ")");
      return;
    }
    const bool records = options_.kind == ImportKind::kRecords;
    if (!value.IsScalar() || value.Scalar().empty()) {
      Error(value.IsNull() ? mark : value.Mark(),
            "column " + Quote(name) + ": " + (records ? kExpectedRecords : kExpected));
      return;
    }
    const std::string target = value.Scalar();
    const YAML::Mark vmark = value.Mark();
    ColumnRule rule;
    if (target == "ignore") {
      rule.type = ColumnRule::Type::kIgnore;
    } else if (target == "external_id") {
      rule.type = ColumnRule::Type::kExternalId;
      if (mapping_.external_id_column >= 0) {
        Error(vmark, "column " + Quote(name) + ": external_id is already mapped from column " +
                         Quote(header_[mapping_.external_id_column]));
        return;
      }
      mapping_.external_id_column = index;
    } else if (target == "at") {
      if (!records) {
        Error(vmark, "column " + Quote(name) + ": `at` is for record imports only; " + kExpected);
        return;
      }
      rule.type = ColumnRule::Type::kAt;
      if (mapping_.at_column >= 0) {
        Error(vmark, "column " + Quote(name) + ": `at` is already mapped from column " +
                         Quote(header_[mapping_.at_column]));
        return;
      }
      mapping_.at_column = index;
    } else if (target.rfind("data.", 0) == 0) {
      if (!records) {
        Error(vmark, "column " + Quote(name) + ": data.NAME is for record imports only; " +
                         kExpected);
        return;
      }
      std::string field = target.substr(5);
      rule.type = ColumnRule::Type::kData;
      const std::string kString = ":string";
      if (field.size() > kString.size() &&
          field.compare(field.size() - kString.size(), kString.size(), kString) == 0) {
        field.resize(field.size() - kString.size());
        rule.force_string = true;
      }
      if (!ValidDataName(field)) {
        Error(vmark, "column " + Quote(name) + ": " + Quote(target) +
                         " is not a valid data field; use data.NAME with NAME of 1-64 letters, "
                         "digits, '_', '-' or '.'");
        return;
      }
      auto [prev, fresh] = data_fields_.emplace(field, name);
      if (!fresh) {
        Error(vmark, "column " + Quote(name) + ": data field " + Quote(field) +
                         " is already mapped from column " + Quote(prev->second));
        return;
      }
      rule.target = field;
    } else if (records) {
      Error(vmark, "column " + Quote(name) + ": " + Quote(target) +
                       " cannot be used in a record import; " + kExpectedRecords);
      return;
    } else {
      if (policy_.FindCategory(target) == nullptr) {
        Error(vmark, "column " + Quote(name) + ": category " + Quote(target) +
                         " is not declared in the policy; " + kExpected);
        return;
      }
      auto [prev, fresh] = categories_.emplace(target, name);
      if (!fresh) {
        Error(vmark, "column " + Quote(name) + ": category " + Quote(target) +
                         " is already mapped from column " + Quote(prev->second));
        return;
      }
      rule.type = ColumnRule::Type::kCategory;
      rule.target = target;
    }
    mapping_.columns[index] = std::move(rule);
    mapped_[index] = true;
  }

  // What the whole file must satisfy, checked once every entry is read.
  void Finish() {
    const std::string& flag = options_.external_id_column;
    if (!flag.empty()) {
      int index = -1;
      for (std::size_t i = 0; i < header_.size(); ++i) {
        if (header_[i] == flag) index = static_cast<int>(i);
      }
      if (index < 0) {
        errors_.push_back("--external-id: column " + Quote(flag) + " is not in the header of " +
                          options_.csv_name + " (its columns: " + Join(header_) + ")");
      } else if (mapping_.external_id_column >= 0 && mapping_.external_id_column != index) {
        errors_.push_back("--external-id names column " + Quote(flag) + " but " + source_ +
                          " maps column " + Quote(header_[mapping_.external_id_column]) +
                          " to external_id");
      } else if (mapped_[index] && mapping_.columns[index].type != ColumnRule::Type::kExternalId) {
        errors_.push_back("--external-id names column " + Quote(flag) + " but " + source_ +
                          " maps it to something else");
      } else {
        mapping_.columns[index].type = ColumnRule::Type::kExternalId;
        mapping_.external_id_column = index;
        mapped_[index] = true;
      }
    }
    if (!errors_.empty()) return;  // the checks below would only repeat them
    if (!options_.ignore_unmapped) {
      for (std::size_t i = 0; i < header_.size(); ++i) {
        if (mapped_[i]) continue;
        errors_.push_back(options_.csv_name + ":1: column " + Quote(header_[i]) +
                          " is not named by " + source_ + "; map it (`" + header_[i] +
                          ": ignore` to skip it) or pass --ignore-unmapped");
      }
    }
    if (mapping_.external_id_column < 0) {
      Error(columns_mark_, options_.kind == ImportKind::kRecords
                               ? "no column is mapped to external_id (the subject each record "
                                 "belongs to)"
                               : "no column is mapped to external_id (or given with "
                                 "--external-id); imports upsert by external id so that "
                                 "re-running one is safe");
    }
    if (options_.kind == ImportKind::kRecords) {
      if (mapping_.at_column < 0) Error(columns_mark_, "no column is mapped to at (the record's time)");
      if (data_fields_.empty()) Error(columns_mark_, "no column is mapped to data.NAME");
    } else if (categories_.empty()) {
      Error(columns_mark_, "no column is mapped to a category");
    }
  }

  Result<Mapping> Finalize() {
    if (!errors_.empty()) {
      std::string msg;
      for (const auto& e : errors_) msg += (msg.empty() ? "" : "\n") + e;
      return Status::InvalidArgument(msg);
    }
    return std::move(mapping_);
  }

 private:
  const std::string& source_;
  const std::vector<std::string>& header_;
  const policy::Policy& policy_;
  const MappingOptions& options_;
  Mapping mapping_;
  std::vector<bool> mapped_;
  std::map<std::string, std::string> categories_;   // category -> column
  std::map<std::string, std::string> data_fields_;  // data field -> column
  YAML::Mark columns_mark_ = YAML::Mark::null_mark();
  std::vector<std::string> errors_;
};

}  // namespace

Result<Mapping> LoadMapping(std::string_view yaml, const std::string& source_name,
                            const std::vector<std::string>& header, const policy::Policy& policy,
                            const MappingOptions& options) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                                   std::to_string(e.mark.column + 1) + ": not valid YAML: " +
                                   e.msg);
  }
  Checker checker(source_name, header, policy, options);
  try {
    checker.Root(root);
    checker.Finish();
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source_name + ": " + e.msg);
  }
  return checker.Finalize();
}

}  // namespace custodian::import

// LoadMapping: a table of mapping files and the exact result or messages.
#include "import/mapping.h"

#include <gtest/gtest.h>

#include "policy/loader.h"
#include "test_util.h"

namespace custodian::import {
namespace {

const policy::Policy& Interjet() {
  static const policy::Policy* p = [] {
    std::string yaml = testing_util::ReadFile(std::string(CUSTODIAN_SOURCE_DIR) +
                                              "/examples/policies/interjet.yaml");
    auto loaded = policy::LoadPolicyString(yaml, "interjet.yaml");
    EXPECT_TRUE(loaded.ok());
    return new policy::Policy(std::move(*loaded.policy));
  }();
  return *p;
}

const std::vector<std::string> kSubjectHeader = {"id", "name", "phone", "notes"};
const std::vector<std::string> kRecordHeader = {"cust", "date", "amount", "plan"};

struct BadCase {
  const char* name;
  ImportKind kind;
  const char* yaml;
  const char* message;
  bool ignore_unmapped = true;
  const char* external_id_flag = "";
};

TEST(MappingTest, BadMappingsAreFatalWithPositions) {
  const BadCase cases[] = {
      {"not yaml", ImportKind::kSubjects, "columns: [a,\n", "m.yaml:2:1: not valid YAML: end of sequence flow not found"},
      {"not a map", ImportKind::kSubjects, "- a\n",
       "m.yaml:1:1: expected a mapping with a `columns:` map, e.g. `columns: {customer_id: "
       "external_id}`"},
      {"no columns", ImportKind::kSubjects, "colums:\n  id: external_id\n",
       "m.yaml:1:1: unknown key 'colums'; expected `columns`\n"
       "m.yaml:1:1: no `columns:` map; it names what each CSV column holds"},
      {"empty file", ImportKind::kSubjects, "",
       "m.yaml:1:1: expected a mapping with a `columns:` map, e.g. `columns: {customer_id: "
       "external_id}`"},
      {"columns empty", ImportKind::kSubjects, "# map\ncolumns:\n",
       "m.yaml:2:1: `columns` must be a map of CSV column name to what it holds"},
      {"a line break in a value", ImportKind::kSubjects,
       "columns:\n  id: external_id\n  name: |\n    user.name\n    x\n",
       "m.yaml:3:9: column 'name': category 'user.name\\x0ax\\x0a' is not declared in the policy; "
       "expected a category key declared in the policy, external_id or ignore"},
      {"columns a list", ImportKind::kSubjects, "columns:\n  - id\n",
       "m.yaml:2:3: `columns` must be a map of CSV column name to what it holds"},
      {"column not in file", ImportKind::kSubjects,
       "columns:\n  id: external_id\n  phon: user.contact.phone_number\n",
       "m.yaml:3:3: column 'phon' is not in the header of c.csv (its columns: id, name, phone, "
       "notes)"},
      {"undeclared category", ImportKind::kSubjects,
       "columns:\n  id: external_id\n  name: user.nmae\n",
       "m.yaml:3:9: column 'name': category 'user.nmae' is not declared in the policy; expected a "
       "category key declared in the policy, external_id or ignore"},
      {"empty target", ImportKind::kSubjects, "columns:\n  id: external_id\n  name:\n",
       "m.yaml:3:3: column 'name': expected a category key declared in the policy, external_id "
       "or ignore"},
      {"category twice", ImportKind::kSubjects,
       "columns:\n  id: external_id\n  name: user.name\n  notes: user.name\n",
       "m.yaml:4:10: column 'notes': category 'user.name' is already mapped from column 'name'"},
      {"column twice", ImportKind::kSubjects,
       "columns:\n  id: external_id\n  name: user.name\n  name: ignore\n",
       "m.yaml:4:3: column 'name' is named twice"},
      {"external id twice", ImportKind::kSubjects,
       "columns:\n  id: external_id\n  name: external_id\n  phone: user.contact.phone_number\n",
       "m.yaml:3:9: column 'name': external_id is already mapped from column 'id'"},
      {"at in subjects", ImportKind::kSubjects, "columns:\n  id: external_id\n  name: at\n",
       "m.yaml:3:9: column 'name': `at` is for record imports only; expected a category key "
       "declared in the policy, external_id or ignore"},
      {"no external id", ImportKind::kSubjects, "columns:\n  name: user.name\n",
       "m.yaml:1:1: no column is mapped to external_id (or given with --external-id); imports "
       "upsert by external id so that re-running one is safe"},
      {"no category", ImportKind::kSubjects, "columns:\n  id: external_id\n",
       "m.yaml:1:1: no column is mapped to a category"},
      {"unmapped column", ImportKind::kSubjects,
       "columns:\n  id: external_id\n  name: user.name\n  phone: user.contact.phone_number\n",
       "c.csv:1: column 'notes' is not named by m.yaml; map it (`notes: ignore` to skip it) or "
       "pass --ignore-unmapped",
       false},
      {"flag names a missing column", ImportKind::kSubjects, "columns:\n  name: user.name\n",
       "--external-id: column 'cid' is not in the header of c.csv (its columns: id, name, phone, "
       "notes)",
       true, "cid"},
      {"flag disagrees", ImportKind::kSubjects,
       "columns:\n  id: external_id\n  name: user.name\n",
       "--external-id names column 'notes' but m.yaml maps column 'id' to external_id", true,
       "notes"},
      {"category in records", ImportKind::kRecords,
       "columns:\n  cust: external_id\n  date: at\n  amount: user.financial\n",
       "m.yaml:4:11: column 'amount': 'user.financial' cannot be used in a record import; "
       "expected at, data.NAME, data.NAME:string, external_id or ignore"},
      {"bad data name", ImportKind::kRecords,
       "columns:\n  cust: external_id\n  date: at\n  amount: data.\n",
       "m.yaml:4:11: column 'amount': 'data.' is not a valid data field; use data.NAME with NAME "
       "of 1-64 letters, digits, '_', '-' or '.'"},
      {"data twice", ImportKind::kRecords,
       "columns:\n  cust: external_id\n  date: at\n  amount: data.x\n  plan: data.x:string\n",
       "m.yaml:5:9: column 'plan': data field 'x' is already mapped from column 'amount'"},
      {"records without at", ImportKind::kRecords,
       "columns:\n  cust: external_id\n  amount: data.amount\n",
       "m.yaml:1:1: no column is mapped to at (the record's time)"},
      {"records without subject", ImportKind::kRecords,
       "columns:\n  date: at\n  amount: data.amount\n",
       "m.yaml:1:1: no column is mapped to external_id (the subject each record belongs to)"},
  };
  for (const BadCase& c : cases) {
    MappingOptions o;
    o.kind = c.kind;
    o.ignore_unmapped = c.ignore_unmapped;
    o.external_id_column = c.external_id_flag;
    o.csv_name = "c.csv";
    auto m = LoadMapping(c.yaml, "m.yaml",
                         c.kind == ImportKind::kRecords ? kRecordHeader : kSubjectHeader,
                         Interjet(), o);
    ASSERT_FALSE(m.ok()) << c.name;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(m.status().message(), c.message) << c.name;
  }
}

TEST(MappingTest, SubjectMapping) {
  MappingOptions o;
  o.csv_name = "c.csv";
  auto m = LoadMapping(
      "columns:\n  id: external_id\n  name: user.name\n  phone: user.contact.phone_number\n"
      "  notes: ignore\n",
      "m.yaml", kSubjectHeader, Interjet(), o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->external_id_column, 0);
  ASSERT_EQ(m->columns.size(), 4u);
  EXPECT_EQ(m->columns[1].type, ColumnRule::Type::kCategory);
  EXPECT_EQ(m->columns[1].target, "user.name");
  EXPECT_EQ(m->columns[2].target, "user.contact.phone_number");
  EXPECT_EQ(m->columns[3].type, ColumnRule::Type::kIgnore);
}

TEST(MappingTest, ExternalIdFromTheFlagAndUnmappedIgnored) {
  MappingOptions o;
  o.external_id_column = "id";
  o.ignore_unmapped = true;
  auto m = LoadMapping("columns:\n  name: user.name\n", "m.yaml", kSubjectHeader, Interjet(), o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->external_id_column, 0);
  EXPECT_EQ(m->columns[0].type, ColumnRule::Type::kExternalId);
  EXPECT_EQ(m->columns[2].type, ColumnRule::Type::kIgnore);
}

TEST(MappingTest, RecordMapping) {
  MappingOptions o;
  o.kind = ImportKind::kRecords;
  auto m = LoadMapping(
      "columns:\n  cust: external_id\n  date: at\n  amount: data.amount\n  plan: data.plan:string\n",
      "m.yaml", kRecordHeader, Interjet(), o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->at_column, 1);
  EXPECT_EQ(m->columns[2].type, ColumnRule::Type::kData);
  EXPECT_EQ(m->columns[2].target, "amount");
  EXPECT_FALSE(m->columns[2].force_string);
  EXPECT_EQ(m->columns[3].target, "plan");
  EXPECT_TRUE(m->columns[3].force_string);
}

}  // namespace
}  // namespace custodian::import

// Table-driven tests of every diagnostic the loader reports: each row edits a
// small valid policy and lists the exact diagnostics, positions included.
#include "policy/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace custodian::policy {
namespace {

using testing::ElementsAreArray;

// Valid, and as small as a policy can be while touching every section the
// checks need. Line numbers in the table refer to this text.
constexpr std::string_view kBase = R"(version: "1"
effective: 2026-04-07
organization:
  name: Acme
  jurisdiction: IN
categories:
  user.name: {}
  user.contact.phone_number:
    index: exact
  user.government_id:
    sensitive: true
purposes:
  essential.service:
    basis: contract
    categories: [user.name, user.contact.phone_number]
    roles: [admin]
  marketing.communications.sms:
    basis: consent
    categories: [user.name, user.contact.phone_number]
    roles: [marketing]
    channels: [sms]
    opt_out: [sms_stop]
  essential.legal_obligation:
    basis: legal_obligation
    categories: [user.government_id]
    roles: [admin]
recipients:
  sms_gateway:
    label: SMS gateway
    kind: processor
    purposes: [marketing.communications.sms]
    categories: [user.contact.phone_number]
record_kinds:
  media:
    label: Photos of the ID proof
    category: user.government_id
    anchors: [verified]
retention:
  - name: account
    categories: [user.name, user.contact.phone_number, user.government_id]
    while: active
  - name: media
    records: [media]
    after: verified
    for: 90 days
rights:
  access: {}
  grievance: {}
)";

struct Edit {
  std::string find;  // must occur exactly once in the base
  std::string replace;
};

struct Case {
  std::string name;
  std::vector<Edit> edits;
  std::vector<std::string> expected;  // Diagnostic::ToString(), in order
  std::string whole;                  // when set, the file is this instead of an edited base
};

std::string Build(const Case& c) {
  if (!c.whole.empty()) return c.whole == "<empty>" ? std::string() : c.whole;
  std::string text(kBase);
  for (const Edit& e : c.edits) {
    std::size_t at = text.find(e.find);
    EXPECT_NE(at, std::string::npos) << c.name << ": '" << e.find << "' not in the base";
    EXPECT_EQ(text.find(e.find, at + 1), std::string::npos)
        << c.name << ": '" << e.find << "' is ambiguous";
    if (at != std::string::npos) text.replace(at, e.find.size(), e.replace);
  }
  return text;
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> kCases = {
      // --- the file and its syntax ----------------------------------------
      {"EmptyFile",
       {},
       {"t.yaml:1:1: error: the file is empty; expected a policy document with at "
        "least version, effective, organization, categories, purposes and "
        "retention"},
       "<empty>"},
      {"OnlyComments",
       {},
       {"t.yaml:1:1: error: the file is empty; expected a policy document "
        "with at least version, effective, organization, categories, "
        "purposes and retention"},
       "# policy to come\n\n"},
      {"NotUtf8",
       {{"name: Acme", "name: Acm\xE9"}},
       {"t.yaml:4:12: error: the file is not valid UTF-8: byte 0xE9 does not belong here; save "
        "the file as UTF-8"}},
      {"NotUtf8ColumnCountsCharacters",
       {{"name: Acme", "name: Caf\xC3\xA9 \xFF"}},
       {"t.yaml:4:14: error: the file is not valid UTF-8: byte 0xFF does not belong here; save "
        "the file as UTF-8"}},
      {"ControlCharacter",
       {{"name: Acme", "name: Ac\x01me"}},
       {"t.yaml:4:11: error: control character U+0001 is not allowed in a YAML file; remove it"}},
      {"YamlSyntaxError",
       {{"name: Acme", "name: Acme: Inc"}},
       {"t.yaml:4:13: error: invalid YAML: illegal map value (is the indentation right? Text "
        "that contains ': ' must be in quotes)"}},
      {"YamlUnclosedFlowList",
       {{"roles: [marketing]", "roles: [marketing"}},
       {"t.yaml:21:13: error: invalid YAML: end of sequence flow not found (a list opened with "
        "'[' is not closed with ']')"}},
      {"TabIndentation",
       {{"    index: exact", "\tindex: exact"}},
       {"t.yaml:9:2: error: invalid YAML: end of map not found (line 9 is indented with a tab; "
        "YAML indents with spaces only)"}},
      {"TwoDocuments",
       {{"  grievance: {}\n", "  grievance: {}\n---\nversion: 2\n"}},
       {"t.yaml:50:1: error: the file holds 2 YAML documents (separated by '---'); a policy "
        "file holds exactly one"}},
      {"TopLevelNotAMapping",
       {},
       {"t.yaml:1:1: error: a policy must be a mapping of keys "
        "(version, effective, organization, categories, purposes, "
        "...) at the top level, found a list"},
       "- version\n- categories\n"},

      // --- keys -------------------------------------------------------------
      {"UnknownTopLevelKey",
       {{"rights:", "rigths:"}},
       {"t.yaml:46:1: error: unknown key 'rigths' at the top level; did you mean 'rights'? "
        "Allowed keys: version, effective, updated, organization, categories, purposes, "
        "recipients, record_kinds, retention, rights, cookies, security, changes"}},
      {"UnknownNestedKey",
       {{"    index: exact", "    indx: exact"}},
       {"t.yaml:9:5: error: unknown key 'indx' in category 'user.contact.phone_number'; did you "
        "mean 'index'? Allowed keys: label, description, sensitive, source, index, normalize, "
        "custom"}},
      {"UnknownKeyWithoutSuggestion",
       {{"  access: {}", "  access: {colour: red}"}},
       {"t.yaml:47:12: error: unknown key 'colour' in right 'access'; allowed keys: "
        "deadline_days, extension_days, verification, self_service, exceptions, how"}},
      {"DuplicateCategory",
       {{"    sensitive: true\n", "    sensitive: true\n  user.name:\n    label: Full name\n"}},
       {"t.yaml:12:3: error: duplicate key 'user.name' in categories, first defined at line 7; "
        "remove one of them"}},
      {"DuplicateNestedKey",
       {{"    basis: contract\n", "    basis: contract\n    basis: consent\n"}},
       {"t.yaml:15:5: error: duplicate key 'basis' in purpose 'essential.service', first "
        "defined at line 14; remove one of them"}},
      {"DuplicateTopLevelKey",
       {{"  grievance: {}\n", "  grievance: {}\nversion: \"2\"\n"}},
       {"t.yaml:49:1: error: duplicate key 'version' at the top level, first defined at line 1; "
        "remove one of them"}},
      {"DuplicateListItem",
       {{"    categories: [user.name, user.contact.phone_number]\n    roles: [admin]",
         "    categories: [user.name, user.name, user.contact.phone_number]\n    roles: [admin]"}},
       {"t.yaml:15:29: error: 'user.name' is listed twice in 'categories' in purpose "
        "'essential.service' (first at line 15); remove one"}},
      {"MissingVersion",
       {{"version: \"1\"\n", ""}},
       {"t.yaml:1:1: error: missing required key 'version' at the top level; add the policy's "
        "version, e.g. version: \"2026.1\""}},
      {"MissingRetention",
       {{"retention:\n  - name: account\n    categories: [user.name, user.contact.phone_number, "
         "user.government_id]\n    while: active\n  - name: media\n    records: [media]\n    "
         "after: verified\n    for: 90 days\n",
         ""}},
       {"t.yaml:1:1: error: missing required key 'retention' at the top level; declare how long "
        "you keep each category under retention:"}},
      {"MissingOrganizationName",
       {{"  name: Acme\n", ""}},
       {"t.yaml:3:1: error: missing required key 'name' in organization"}},
      {"JurisdictionNotACountryCode",
       {{"jurisdiction: IN", "jurisdiction: India"}},
       {"t.yaml:5:17: error: 'jurisdiction' in organization must be an ISO 3166-1 alpha-2 "
        "country code, two upper-case letters such as 'IN', found 'India'"}},
      {"JurisdictionLowerCase",
       {{"jurisdiction: IN", "jurisdiction: in"}},
       {"t.yaml:5:17: error: 'jurisdiction' in organization must be an ISO 3166-1 alpha-2 "
        "country code, two upper-case letters such as 'IN', found 'in' (did you mean 'IN'?)"}},
      {"EffectiveNotADate",
       {{"effective: 2026-04-07", "effective: 07/04/2026"}},
       {"t.yaml:2:12: error: 'effective': invalid date '07/04/2026': expected YYYY-MM-DD, e.g. "
        "'2026-04-07'"}},
      {"EffectiveNotARealDay",
       {{"effective: 2026-04-07", "effective: 2026-02-30"}},
       {"t.yaml:2:12: error: 'effective': invalid date '2026-02-30': 2026-02 has no day 30; "
        "expected YYYY-MM-DD, e.g. '2026-04-07'"}},

      // --- types and values -------------------------------------------------
      {"TextWhereAListIsExpected",
       {{"    roles: [admin]\n  marketing", "    roles: admin\n  marketing"}},
       {"t.yaml:16:12: error: 'roles' in purpose 'essential.service' must be a list, found text "
        "'admin'; write a list, e.g. [admin]"}},
      {"ListWhereAMappingIsExpected",
       {{"organization:\n  name: Acme\n  jurisdiction: IN\n", "organization: [Acme, IN]\n"}},
       {"t.yaml:3:15: error: 'organization' must be a mapping of keys to values, found a list"}},
      {"NotABoolean",
       {{"sensitive: true", "sensitive: yes"}},
       {"t.yaml:11:16: error: 'sensitive' in category 'user.government_id' must be true or "
        "false, found text 'yes'"}},
      {"UnknownEnumValue",
       {{"basis: contract", "basis: contrat"}},
       {"t.yaml:14:12: error: unknown value 'contrat' for 'basis' in purpose 'essential.service'; "
        "did you mean 'contract'? Expected one of: contract, legal_obligation, consent, "
        "legitimate_interest, vital_interest, public_task"}},
      {"UnknownRecipientKind",
       {{"kind: processor", "kind: processer"}},
       {"t.yaml:30:11: error: unknown value 'processer' for 'kind' in recipient 'sms_gateway'; "
        "did you mean 'processor'? Expected one of: processor, third_party, affiliate, "
        "authority"}},
      {"InvalidRoleName",
       {{"    roles: [admin]\n  marketing", "    roles: [Admin]\n  marketing"}},
       {"t.yaml:16:13: error: role 'Admin' in purpose 'essential.service' is not a valid role "
        "name; expected a lower-case identifier (letters, digits, '_'), e.g. 'admin'"}},

      // --- taxonomy keys ----------------------------------------------------
      {"UnknownCategoryWithSuggestion",
       {{"    sensitive: true\n", "    sensitive: true\n  user.contact.emial: {}\n"}},
       {"t.yaml:12:3: error: unknown category 'user.contact.emial'; did you mean "
        "'user.contact.email'?"}},
      {"UnknownCategoryListsSiblings",
       {{"    sensitive: true\n", "    sensitive: true\n  user.contact.phone: {}\n"}},
       {"t.yaml:12:3: error: unknown category 'user.contact.phone': it is not a fideslang data "
        "category; known keys under 'user.contact': user.contact.address, user.contact.email, "
        "user.contact.phone_number, user.contact.fax_number, user.contact.social_url. To extend "
        "'user.contact' with a key of your own, add 'custom: true'"}},
      {"UnknownPurposeWithSuggestion",
       {{"  essential.legal_obligation:", "  essential.legal_obligaton:"}},
       {"t.yaml:23:3: error: unknown purpose 'essential.legal_obligaton'; did you mean "
        "'essential.legal_obligation'?"}},
      {"CustomCategoryWithoutKnownParent",
       {{"    sensitive: true\n",
         "    sensitive: true\n  user.contactt.work_phone:\n    custom: true\n    label: Work\n"}},
       {"t.yaml:12:3: error: custom category 'user.contactt.work_phone' must extend a known key: "
        "'user.contactt' is not in the taxonomy; did you mean 'user.contact'?"}},
      {"CustomPurposeWithoutKnownParent",
       {{"  essential.legal_obligation:",
         "  essentials.kyc:\n    custom: true\n    label: KYC\n    basis: legal_obligation\n"
         "    categories: [user.name]\n    roles: [admin]\n  essential.legal_obligation:"}},
       {"t.yaml:23:3: error: custom purpose 'essentials.kyc' must extend a known key: "
        "'essentials' is not in the taxonomy; did you mean 'essential'?"}},
      {"CustomFlagOnATaxonomyKey",
       {{"  user.name: {}", "  user.name: {custom: true}"}},
       {"t.yaml:7:3: error: category 'user.name' is in the taxonomy, so it is not custom; remove "
        "'custom: true'"}},
      {"CustomCategoryWithoutLabel",
       {{"    sensitive: true\n",
         "    sensitive: true\n  user.contact.phone_number.work: "
         "{custom: true}\n"},
        {"categories: [user.name, user.contact.phone_number]\n    roles: [admin]",
         "categories: [user.name, user.contact.phone_number.work]\n    roles: [admin]"},
        {"user.government_id]\n    while",
         "user.government_id, user.contact.phone_number.work]\n"
         "    while"}},
       {"t.yaml:12:3: error: custom category 'user.contact.phone_number.work' needs a 'label': "
        "the taxonomy has none for it"}},

      // --- purposes -----------------------------------------------------------
      {"PurposeWithoutLegalBasis",
       {{"    basis: legal_obligation\n", ""}},
       {"t.yaml:23:3: error: purpose 'essential.legal_obligation' has no legal basis; add "
        "'basis:' with one of: contract, legal_obligation, consent, legitimate_interest, "
        "vital_interest, public_task"}},
      {"ConsentPurposeWithoutOptOut",
       {{"    opt_out: [sms_stop]\n", ""}},
       {"t.yaml:18:12: error: purpose 'marketing.communications.sms' is consent-based but has no "
        "opt-out channel; add 'opt_out:' with at least one of: sms_stop, whatsapp_stop, "
        "email_link, portal, operator"}},
      {"OptOutOnANonConsentPurpose",
       {{"    roles: [admin]\n  marketing",
         "    roles: [admin]\n    opt_out: [portal]\n  marketing"}},
       {"t.yaml:17:5: error: purpose 'essential.service' has basis 'contract'; 'opt_out' applies "
        "only to consent-based purposes (basis: consent)"}},
      {"PurposeUsesUndeclaredCategory",
       {{"categories: [user.government_id]\n    roles",
         "categories: [user.government_id, user.contact.fax_number]\n    roles"}},
       {"t.yaml:25:38: error: purpose 'essential.legal_obligation' uses category "
        "'user.contact.fax_number', which is not declared under categories; declare it or remove "
        "it from the purpose"}},
      {"ConsentPurposeWithEmptyOptOut",
       {{"opt_out: [sms_stop]", "opt_out: []"}},
       {"t.yaml:18:12: error: purpose 'marketing.communications.sms' is consent-based but has no "
        "opt-out channel; add 'opt_out:' with at least one of: sms_stop, whatsapp_stop, "
        "email_link, portal, operator"}},
      {"ConsentPurposeWithMisspeltOptOut",
       {{"opt_out: [sms_stop]", "opt_out: [sms_stp]"}},
       {"t.yaml:22:15: error: unknown value 'sms_stp' for 'opt_out' in purpose "
        "'marketing.communications.sms'; did you mean 'sms_stop'? Expected one of: sms_stop, "
        "whatsapp_stop, email_link, portal, operator"}},
      {"PurposeWithEmptyCategories",
       {{"categories: [user.government_id]\n    roles", "categories: []\n    roles"}},
       {"t.yaml:10:3: error: category 'user.government_id' is collected but no purpose uses it; "
        "add it to the categories of the purposes that need it, or remove it",
        "t.yaml:23:3: error: purpose 'essential.legal_obligation' uses no categories; list the "
        "categories it may use under 'categories'"}},
      {"PurposeWithoutRoles",
       {{"    roles: [admin]\n  marketing", "  marketing"}},
       {"t.yaml:13:3: error: purpose 'essential.service' names no roles; list the roles allowed "
        "to use it under 'roles', e.g. [admin]"}},

      // --- categories ---------------------------------------------------------
      {"CategoryUsedByNoPurpose",
       {{"    sensitive: true\n", "    sensitive: true\n  user.demographic.date_of_birth: {}\n"},
        {"user.government_id]\n    while",
         "user.government_id, user.demographic.date_of_birth]\n"
         "    while"}},
       {"t.yaml:12:3: error: category 'user.demographic.date_of_birth' is collected but no "
        "purpose uses it; add it to the categories of the purposes that need it, or remove it"}},
      {"CategoryWithoutRetention",
       {{"    sensitive: true\n", "    sensitive: true\n  user.demographic.date_of_birth: {}\n"},
        {"categories: [user.name, user.contact.phone_number]\n    roles: [admin]",
         "categories: [user.name, user.demographic.date_of_birth]\n    roles: [admin]"}},
       {"t.yaml:12:3: error: category 'user.demographic.date_of_birth' is not covered by any "
        "retention rule; add it to the categories of a rule under retention"}},

      // --- recipients -------------------------------------------------------
      {"RecipientNamesUndeclaredPurpose",
       {{"purposes: [marketing.communications.sms]",
         "purposes: [marketing.communications.sms, analytics]"}},
       {"t.yaml:31:46: error: recipient 'sms_gateway' names purpose 'analytics', which is not "
        "declared under purposes; declare it or remove it from the recipient"}},
      {"RecipientNamesUndeclaredCategory",
       {{"categories: [user.contact.phone_number]\n",
         "categories: [user.contact.phone_number, user.contact.email]\n"}},
       {"t.yaml:32:45: error: recipient 'sms_gateway' receives category 'user.contact.email', "
        "which is not declared under categories; declare it or remove it from the recipient"}},
      {"RecipientWithoutPurposes",
       {{"purposes: [marketing.communications.sms]", "purposes: []"}},
       {"t.yaml:28:3: error: recipient 'sms_gateway' lists no purposes; name the purposes data is "
        "shared with it for under 'purposes'"}},
      {"RecipientWithoutCategories",
       {{"    categories: [user.contact.phone_number]\nrecord_kinds", "record_kinds"}},
       {"t.yaml:28:3: error: recipient 'sms_gateway' lists no categories; name the categories "
        "shared with it under 'categories'"}},
      {"RecipientCategoryOutsideItsPurposes",
       {{"categories: [user.contact.phone_number]\n",
         "categories: [user.contact.phone_number, user.government_id]\n"}},
       {"t.yaml:32:45: error: recipient 'sms_gateway' receives category 'user.government_id', "
        "which none of its purposes (marketing.communications.sms) uses; add it to one of those "
        "purposes or stop sharing it"}},

      // --- record kinds and retention ---------------------------------------
      {"RecordKindWithUndeclaredCategory",
       {{"category: user.government_id", "category: user.financial"}},
       {"t.yaml:36:15: error: record kind 'media' has category 'user.financial', which is not "
        "declared under categories; declare it or change the record kind's category"}},
      {"RecordKindWithoutRetention",
       {{"    anchors: [verified]\n",
         "    anchors: [verified]\n  logs:\n    label: Logs\n    category: user.name\n"}},
       {"t.yaml:38:3: error: record kind 'logs' is not covered by any retention rule; add it to "
        "the records of a rule under retention"}},
      {"BuiltInAnchorRedeclared",
       {{"anchors: [verified]", "anchors: [verified, closed]"}},
       {"t.yaml:37:25: error: anchor 'closed' in record kind 'media' is built in; remove it "
        "from 'anchors' (declare only events of your own, such as 'verified')"}},
      {"EmptyRetentionRule",  // '- ' alone: yaml-cpp gives it no place, so the list's
       {{"retention:\n  - name: account", "retention:\n  -\n  - name: account"}},
       {"t.yaml:39:3: error: retention rule 'retention[1]' must be a mapping (categories, "
        "records, while or after, for, action...), found nothing"}},
      {"UnparseableDuration",
       {{"for: 90 days", "for: 12 monthz"}},
       {"t.yaml:45:10: error: retention rule 'media': invalid duration '12 monthz': unknown unit "
        "'monthz'; did you mean '12 months'? Expected a positive whole number and a unit (days, "
        "weeks, months or years), e.g. '12 months'"}},
      {"UnnamedRuleIsNamedByPosition",
       {{"  - name: media\n    records", "  - records"}, {"for: 90 days", "for: 90 dayz"}},
       {"t.yaml:44:10: error: retention rule 'retention[2]': invalid duration '90 dayz': unknown "
        "unit 'dayz'; did you mean '90 days'? Expected a positive whole number and a unit (days, "
        "weeks, months or years), e.g. '12 months'"}},
      {"UnknownAnchorEvent",
       {{"after: verified", "after: approved"}},
       {"t.yaml:44:12: error: retention rule 'media' is anchored on unknown event 'approved'; "
        "expected one of: closed, collected, verified (events of your own must be declared in a "
        "record kind's 'anchors')"}},
      {"UnknownAnchorEventTypo",
       {{"after: verified", "after: verifed"}},
       {"t.yaml:44:12: error: retention rule 'media' is anchored on unknown event 'verifed' (did "
        "you mean 'verified'?); expected one of: closed, collected, verified (events of your own "
        "must be declared in a record kind's 'anchors')"}},
      {"AnchorNotDeclaredByTheRecordKind",
       {{"    anchors: [verified]\n",
         "    anchors: [verified]\n  billing:\n    label: Bills\n    category: user.name\n"},
        {"records: [media]", "records: [media, billing]"}},
       {"t.yaml:46:22: error: retention rule 'media' is anchored on 'verified', but record kind "
        "'billing' has no such event (its 'anchors' do not list it), so its records would never "
        "be due; add the anchor to the record kind or move it to another rule"}},
      {"WhileAcceptsOnlyActive",
       {{"while: active", "while: open"}},
       {"t.yaml:41:12: error: unknown value 'open' for 'while' in retention rule 'account'; "
        "expected one of: active"}},
      {"BothWhileAndAfter",
       {{"    while: active\n", "    while: active\n    after: closed\n"}},
       {"t.yaml:42:5: error: retention rule 'account' has both 'while' and 'after'; use one: "
        "'while: active' keeps data while the account is active, 'after: EVENT' with 'for: "
        "DURATION' keeps it for a time after an event"}},
      {"NeitherWhileNorAfter",
       {{"    while: active\n", ""}},
       {"t.yaml:39:5: error: retention rule 'account' has neither 'while' nor 'after'; add "
        "'while: active', or 'after: EVENT' with 'for: DURATION'"}},
      {"AfterWithoutFor",
       {{"    for: 90 days\n", ""}},
       {"t.yaml:44:5: error: retention rule 'media' has 'after' but no 'for'; add how long to "
        "keep the data after the event, e.g. 'for: 12 months'"}},
      {"ForWithWhile",
       {{"    while: active\n", "    while: active\n    for: 1 year\n"}},
       {"t.yaml:42:5: error: retention rule 'account' has 'for' with 'while: active'; data kept "
        "while active is due when the account closes. To keep it longer, use 'after: closed' "
        "with 'for'"}},
      {"KeepWithoutAnonymize",
       {{"    while: active\n", "    while: active\n    keep: [user.name]\n"}},
       {"t.yaml:42:5: error: retention rule 'account' has 'keep' but its action is not "
        "'anonymize'; 'keep' lists the categories that 'action: anonymize' keeps in generalized "
        "form"}},

      {"MinGroupWithoutAnonymize",
       {{"    while: active\n", "    while: active\n    min_group: 5\n"}},
       {"t.yaml:42:5: error: retention rule 'account' has 'min_group' but nothing to report: "
        "'min_group' applies to what 'action: anonymize' keeps ('keep')"}},
      {"MinGroupZero",
       {{"    while: active\n",
         "    while: active\n    action: anonymize\n    keep: [user.name]\n    min_group: 0\n"}},
       {"t.yaml:44:16: error: retention rule 'account': 'min_group' must be a whole number from 1 "
        "to 1000000 (the fewest accounts a reported group of kept values may hold), found 0"}},
      {"MinGroupNotANumber",
       {{"    while: active\n",
         "    while: active\n    action: anonymize\n    keep: [user.name]\n    min_group: many\n"}},
       {"t.yaml:44:16: error: 'min_group' in retention rule 'account' must be a whole number, "
        "found text 'many'"}},

      {"KeepsACategoryTheRuleDoesNotCover",
       {{"    while: active\n  - name: media\n    records: [media]\n    after: verified\n",
         "    while: active\n  - name: media\n    records: [media]\n    after: verified\n"
         "    action: anonymize\n    keep: [user.name]\n"}},
       {"t.yaml:46:12: error: retention rule 'media' keeps category 'user.name', which the rule "
        "does not cover; add it to the rule's categories or remove it from 'keep'"}},

      // --- rights and cookies -----------------------------------------------
      {"ZeroDeadline",
       {{"  access: {}", "  access: {deadline_days: 0}"}},
       {"t.yaml:47:27: error: 'deadline_days' in right 'access' must be a positive number of "
        "days, found 0"}},
      {"NegativeDeadline",
       {{"  access: {}", "  access: {deadline_days: -5}"}},
       {"t.yaml:47:27: error: 'deadline_days' in right 'access' must be a positive number of "
        "days, found -5"}},
      {"DeadlineNotANumber",
       {{"  access: {}", "  access: {deadline_days: ten}"}},
       {"t.yaml:47:27: error: 'deadline_days' in right 'access' must be a whole number, found "
        "text 'ten'"}},
      {"SelfServiceOutsideCorrection",
       {{"  access: {}", "  access: {self_service: [user.name]}"}},
       {"t.yaml:47:12: error: 'self_service' applies only to the correction right (the "
        "categories people may correct themselves), not to right 'access'"}},
      {"CookieWithoutConsentForAConsentPurpose",
       {{"  grievance: {}\n",
         "  grievance: {}\ncookies:\n  marketing:\n    label: Ads\n"
         "    purpose: marketing.communications.sms\n    consent: false\n"}},
       {"t.yaml:53:14: error: cookie category 'marketing' does not ask for consent ('consent: "
        "false') but its purpose 'marketing.communications.sms' is consent-based; set 'consent: "
        "true' or pick a purpose with another basis"}},
      {"CookieWithUndeclaredPurpose",
       {{"  grievance: {}\n",
         "  grievance: {}\ncookies:\n  analytics:\n    label: Analytics\n"
         "    purpose: analytics\n"}},
       {"t.yaml:52:14: error: cookie category 'analytics' names purpose 'analytics', which is not "
        "declared under purposes; declare it or pick a declared purpose"}},

      // --- warnings: the policy still loads ----------------------------------
      {"WarnSensitiveCategoryToThirdParty",
       {{"kind: processor", "kind: third_party"},
        {"purposes: [marketing.communications.sms]",
         "purposes: [marketing.communications.sms, essential.legal_obligation]"},
        {"categories: [user.contact.phone_number]\n",
         "categories: [user.contact.phone_number, user.government_id]\n"}},
       {"t.yaml:32:45: warning: sensitive category 'user.government_id' is shared with third "
        "party 'sms_gateway'; check that this sharing is necessary, lawful and explained in the "
        "notice"}},
      {"WarnConsentDefaultsToOptedIn",
       {{"    opt_out: [sms_stop]\n", "    opt_out: [sms_stop]\n    default: opted_in\n"}},
       {"t.yaml:23:5: warning: consent-based purpose 'marketing.communications.sms' defaults to "
        "opted_in, so people count as consenting before they agree; consent should be given, not "
        "assumed (default: opted_out)"}},
      {"WarnChannelWithoutItsOptOut",
       {{"opt_out: [sms_stop]", "opt_out: [portal]"}},
       {"t.yaml:21:16: warning: purpose 'marketing.communications.sms' sends by sms but does not "
        "offer the 'sms_stop' opt-out; people expect to stop sms messages from the message "
        "itself"}},
      {"WarnProcessorWithoutRoleNote",
       {{"  jurisdiction: IN\n", "  jurisdiction: IN\n  role: processor\n"}},
       {"t.yaml:6:9: warning: organization is a processor but has no 'role_note' saying who the "
        "controllers are; add one so that the notice can tell people whom to ask"}},

      // --- all problems in one pass, sorted ---------------------------------
      {"ReportsEverythingSortedByPosition",
       {{"for: 90 days", "for: 12 monthz"},
        {"categories: [user.government_id]\n    roles",
         "categories: [user.government_id, user.contact.fax_number]\n    roles"},
        {"rights:", "rigths:"},
        {"  name: Acme\n", ""}},
       {"t.yaml:3:1: error: missing required key 'name' in organization",
        "t.yaml:24:38: error: purpose 'essential.legal_obligation' uses category "
        "'user.contact.fax_number', which is not declared under categories; declare it or "
        "remove it from the purpose",
        "t.yaml:44:10: error: retention rule 'media': invalid duration '12 monthz': unknown unit "
        "'monthz'; did you mean '12 months'? Expected a positive whole number and a unit (days, "
        "weeks, months or years), e.g. '12 months'",
        "t.yaml:45:1: error: unknown key 'rigths' at the top level; did you mean 'rights'? "
        "Allowed keys: version, effective, updated, organization, categories, purposes, "
        "recipients, record_kinds, retention, rights, cookies, security, changes"}},
  };
  return kCases;
}

// gtest prints a failing row by its name rather than its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class LoaderDiagnostics : public testing::TestWithParam<Case> {};

TEST_P(LoaderDiagnostics, ReportsExactly) {
  const Case& c = GetParam();
  LoadResult result = LoadPolicyString(Build(c), "t.yaml");
  std::vector<std::string> actual;
  for (const Diagnostic& d : result.diagnostics) actual.push_back(d.ToString());
  EXPECT_THAT(actual, ElementsAreArray(c.expected));
  bool expect_error = false;
  for (const std::string& e : c.expected) {
    if (e.find(": error: ") != std::string::npos) expect_error = true;
  }
  EXPECT_EQ(result.ok(), !expect_error);
  EXPECT_EQ(result.error_count() + result.warning_count(),
            static_cast<int>(result.diagnostics.size()));
}

INSTANTIATE_TEST_SUITE_P(Table, LoaderDiagnostics, testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<Case>& p) { return p.param.name; });

TEST(LoaderDiagnostics, BaseIsValid) {
  LoadResult result = LoadPolicyString(kBase, "t.yaml");
  EXPECT_TRUE(result.ok());
  EXPECT_TRUE(result.diagnostics.empty()) << result.diagnostics[0].ToString();
}

}  // namespace
}  // namespace custodian::policy

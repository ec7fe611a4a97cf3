#include "policy/validator.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "policy/diagnostics.h"
#include "policy/parser.h"
#include "policy/suggest.h"
#include "policy/taxonomy.h"

namespace custodian::policy {
namespace {

constexpr std::string_view kBasisNames =
    "contract, legal_obligation, consent, legitimate_interest, vital_interest, public_task";
constexpr std::string_view kOptOutNames = "sms_stop, whatsapp_stop, email_link, portal, operator";
// The channel a consent purpose sends by, and the opt-out people expect on it.
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kChannelOptOuts = {{
    {"sms", "sms_stop"},
    {"whatsapp", "whatsapp_stop"},
    {"email", "email_link"},
}};

template <typename T>
bool Contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

class Validator {
 public:
  Validator(const Policy& policy, const SourceInfo& sources)
      : p_(policy), s_(sources), sink_(policy.file) {
    for (const Category& c : p_.categories) categories_.push_back(c.key);
    for (const Purpose& x : p_.purposes) purposes_.push_back(x.key);
    for (const RecordKind& k : p_.record_kinds) {
      record_kinds_.push_back(k.id);
      for (const std::string& a : k.anchors) {
        if (!Contains(anchors_, a)) anchors_.push_back(a);
      }
    }
  }

  std::vector<Diagnostic> Run() {
    CheckCategories();
    CheckPurposes();
    CheckRecordKinds();
    CheckRecipients();
    CheckRetention();
    CheckRights();
    CheckCookies();
    CheckOrganization();
    return sink_.Take();
  }

 private:
  // " (did you mean 'x'?)" when a declared name is close to `name`.
  static std::string Mean(const std::string& name, const std::vector<std::string>& declared) {
    std::optional<std::string> guess = ClosestMatch(name, declared);
    return guess ? fmt::format(" (did you mean '{}'?)", *guess) : std::string();
  }

  // Reports each item of `list` that is not declared in `section`. `what`
  // reads "purpose 'x' uses", `owner_noun` "the purpose".
  void CheckDeclared(const std::vector<std::string>& list, const std::vector<std::string>& declared,
                     const std::string& section, const std::string& item_noun,
                     const std::string& path, SourcePos fallback, const std::string& what,
                     const std::string& owner_noun) {
    if (s_.IsBroken(section)) return;
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (Contains(declared, list[i])) continue;
      sink_.Error(
          s_.Get(fmt::format("{}/{}", path, i), fallback),
          fmt::format("{} {} '{}', which is not declared under {}{}; declare it or "
                      "remove it from {}",
                      what, item_noun, list[i], section, Mean(list[i], declared), owner_noun));
    }
  }

  // A category or purpose key: in the taxonomy, or custom under a known parent.
  // Returns whether the key is acceptable (a label aside).
  bool CheckKey(TaxonomyKind kind, const std::string& key, bool custom, const std::string& label,
                SourcePos pos, const std::vector<std::string>& declared) {
    const char* noun = kind == TaxonomyKind::kDataCategory ? "category" : "purpose";
    const char* taxonomy =
        kind == TaxonomyKind::kDataCategory ? "fideslang data category" : "fideslang data use";
    if (IsTaxonomyKey(kind, key)) {
      if (custom) {
        sink_.Error(pos, fmt::format("{} '{}' is in the taxonomy, so it is not custom; remove "
                                     "'custom: true'",
                                     noun, key));
      }
      return !custom;
    }
    std::string parent(ParentKey(key));
    if (!custom) {
      if (std::optional<std::string> guess = SuggestTaxonomyKey(kind, key)) {
        sink_.Error(pos, fmt::format("unknown {} '{}'; did you mean '{}'?", noun, key, *guess));
        return false;
      }
      std::vector<std::string> siblings = TaxonomyChildren(kind, parent);
      if (!siblings.empty()) {
        sink_.Error(pos,
                    fmt::format("unknown {} '{}': it is not a {}; known keys under '{}': "
                                "{}. To extend '{}' with a key of your own, add "
                                "'custom: true'",
                                noun, key, taxonomy, parent, fmt::join(siblings, ", "), parent));
      } else {
        sink_.Error(pos, fmt::format("unknown {} '{}': it is not a {}; use a taxonomy key, or "
                                     "add 'custom: true' to extend a known key",
                                     noun, key, taxonomy));
      }
      return false;
    }
    if (!internal::IsDottedKey(key)) {
      sink_.Error(pos, fmt::format("custom {} '{}' is not a valid key; expected lower-case words "
                                   "(letters, digits, '_') joined by dots, e.g. '{}'",
                                   noun, key,
                                   kind == TaxonomyKind::kDataCategory
                                       ? "user.contact.phone_number.work"
                                       : "essential.service.operations.kyc"));
      return false;
    }
    if (parent.empty()) {
      sink_.Error(
          pos,
          fmt::format("custom {} '{}' must extend a known key: it has no parent; "
                      "write it under a known key, e.g. '{}.{}'",
                      noun, key, kind == TaxonomyKind::kDataCategory ? "user" : "essential", key));
      return false;
    }
    if (!IsTaxonomyKey(kind, parent) && !Contains(declared, parent)) {
      std::optional<std::string> guess = SuggestTaxonomyKey(kind, parent);
      sink_.Error(pos, fmt::format("custom {} '{}' must extend a known key: '{}' is not in the "
                                   "taxonomy{}",
                                   noun, key, parent,
                                   guess ? fmt::format("; did you mean '{}'?", *guess) : ""));
      return false;
    }
    if (label.empty()) {
      sink_.Error(pos, fmt::format("custom {} '{}' needs a 'label': the taxonomy has none for it",
                                   noun, key));
    }
    return true;
  }

  void CheckCategories() {
    std::vector<std::string> used;
    for (const Purpose& x : p_.purposes)
      used.insert(used.end(), x.categories.begin(), x.categories.end());
    std::vector<std::string> retained;
    for (const RetentionRule& rule : p_.retention) {
      retained.insert(retained.end(), rule.categories.begin(), rule.categories.end());
      for (const std::string& id : rule.records) {
        if (const RecordKind* kind = p_.FindRecordKind(id)) retained.push_back(kind->category);
      }
    }
    for (const Category& c : p_.categories) {
      // A key already reported as unknown gets no further errors about it.
      if (!CheckKey(TaxonomyKind::kDataCategory, c.key, c.custom, c.label, c.pos, categories_)) {
        continue;
      }
      if (!s_.IsBroken("purposes") && !Contains(used, c.key)) {
        sink_.Error(c.pos, fmt::format("category '{}' is collected but no purpose uses it; add it "
                                       "to the categories of the purposes that need it, or "
                                       "remove it",
                                       c.key));
      }
      if (!s_.IsBroken("retention") && !Contains(retained, c.key)) {
        sink_.Error(c.pos, fmt::format("category '{}' is not covered by any retention rule; add it "
                                       "to the categories of a rule under retention",
                                       c.key));
      }
    }
  }

  void CheckPurposes() {
    for (const Purpose& x : p_.purposes) {
      const std::string path = "purposes/" + x.key;
      const std::string name = fmt::format("purpose '{}'", x.key);
      CheckKey(TaxonomyKind::kDataUse, x.key, x.custom, x.label, x.pos, purposes_);
      if (!x.basis && !s_.Has(path + "/basis")) {
        sink_.Error(x.pos, fmt::format("{} has no legal basis; add 'basis:' with one of: {}", name,
                                       kBasisNames));
      }
      bool consent = x.basis == LegalBasis::kConsent;
      if (consent && x.opt_out.empty() && !s_.IsBroken(path + "/opt_out")) {
        sink_.Error(x.basis_pos, fmt::format("{} is consent-based but has no opt-out channel; add "
                                             "'opt_out:' with at least one of: {}",
                                             name, kOptOutNames));
      }
      if (x.basis && !consent) {
        for (const char* key : {"opt_out", "default"}) {
          if (!s_.Has(path + "/" + key)) continue;
          sink_.Error(s_.Get(path + "/" + key, x.pos),
                      fmt::format("{} has basis '{}'; '{}' applies only to consent-based "
                                  "purposes (basis: consent)",
                                  name, LegalBasisName(*x.basis), key));
        }
      }
      if (consent && x.default_granted) {
        sink_.Warning(s_.Get(path + "/default", x.pos),
                      fmt::format("consent-based {} defaults to opted_in, so people count as "
                                  "consenting before they agree; consent should be given, not "
                                  "assumed (default: opted_out)",
                                  name));
      }
      if (consent && !x.opt_out.empty()) {
        for (std::size_t i = 0; i < x.channels.size(); ++i) {
          for (const auto& [channel, opt_out] : kChannelOptOuts) {
            if (x.channels[i] != channel || Contains(x.opt_out, std::string(opt_out))) continue;
            sink_.Warning(s_.Get(fmt::format("{}/channels/{}", path, i), x.pos),
                          fmt::format("{} sends by {} but does not offer the '{}' opt-out; "
                                      "people expect to stop {} messages from the message itself",
                                      name, channel, opt_out, channel));
          }
        }
      }
      CheckDeclared(x.categories, categories_, "categories", "category", path + "/categories",
                    x.pos, name + " uses", "the purpose");
      if (x.categories.empty() && !s_.IsBroken(path + "/categories")) {
        sink_.Error(x.pos, fmt::format("{} uses no categories; list the categories it may use "
                                       "under 'categories'",
                                       name));
      }
      if (x.roles.empty() && !s_.IsBroken(path + "/roles")) {
        sink_.Error(x.pos, fmt::format("{} names no roles; list the roles allowed to use it under "
                                       "'roles', e.g. [admin]",
                                       name));
      }
    }
  }

  void CheckRecordKinds() {
    std::vector<std::string> retained;
    for (const RetentionRule& rule : p_.retention) {
      retained.insert(retained.end(), rule.records.begin(), rule.records.end());
    }
    for (const RecordKind& k : p_.record_kinds) {
      const std::string path = "record_kinds/" + k.id;
      if (!k.category.empty() && !s_.IsBroken("categories") && !Contains(categories_, k.category)) {
        sink_.Error(s_.Get(path + "/category", k.pos),
                    fmt::format("record kind '{}' has category '{}', which is not declared under "
                                "categories{}; declare it or change the record kind's category",
                                k.id, k.category, Mean(k.category, categories_)));
      }
      if (!s_.IsBroken("retention") && !Contains(retained, k.id)) {
        sink_.Error(k.pos, fmt::format("record kind '{}' is not covered by any retention rule; add "
                                       "it to the records of a rule under retention",
                                       k.id));
      }
    }
  }

  void CheckRecipients() {
    for (const Recipient& rec : p_.recipients) {
      const std::string path = "recipients/" + rec.id;
      const std::string name = fmt::format("recipient '{}'", rec.id);
      CheckDeclared(rec.purposes, purposes_, "purposes", "purpose", path + "/purposes", rec.pos,
                    name + " names", "the recipient");
      CheckDeclared(rec.categories, categories_, "categories", "category", path + "/categories",
                    rec.pos, name + " receives", "the recipient");
      if (rec.purposes.empty() && !s_.IsBroken(path + "/purposes")) {
        sink_.Error(rec.pos, fmt::format("{} lists no purposes; name the purposes data is shared "
                                         "with it for under 'purposes'",
                                         name));
      }
      if (rec.categories.empty() && !s_.IsBroken(path + "/categories")) {
        sink_.Error(rec.pos, fmt::format("{} lists no categories; name the categories shared with "
                                         "it under 'categories'",
                                         name));
      }
      // Shared categories must be ones its purposes may use (purpose limitation).
      std::vector<std::string> usable;
      bool all_known = !rec.purposes.empty();
      for (const std::string& key : rec.purposes) {
        const Purpose* x = p_.FindPurpose(key);
        if (x == nullptr) all_known = false;
        if (x != nullptr) usable.insert(usable.end(), x->categories.begin(), x->categories.end());
      }
      for (std::size_t i = 0; i < rec.categories.size(); ++i) {
        const std::string& key = rec.categories[i];
        SourcePos pos = s_.Get(fmt::format("{}/categories/{}", path, i), rec.pos);
        const Category* c = p_.FindCategory(key);
        if (c == nullptr) continue;
        if (all_known && !Contains(usable, key)) {
          sink_.Error(pos, fmt::format("{} receives category '{}', which none of its purposes ({}) "
                                       "uses; add it to one of those purposes or stop sharing it",
                                       name, key, fmt::join(rec.purposes, ", ")));
        }
        if (c->sensitive && rec.kind == RecipientKind::kThirdParty) {
          sink_.Warning(pos, fmt::format("sensitive category '{}' is shared with third party '{}'; "
                                         "check that this sharing is necessary, lawful and "
                                         "explained in the notice",
                                         key, rec.id));
        }
      }
    }
  }

  void CheckRetention() {
    for (std::size_t i = 0; i < p_.retention.size(); ++i) {
      const RetentionRule& rule = p_.retention[i];
      const std::string path = fmt::format("retention/{}", i);
      const std::string name = fmt::format("retention rule '{}'", rule.name);
      CheckDeclared(rule.categories, categories_, "categories", "category", path + "/categories",
                    rule.pos, name + " covers", "the rule");
      CheckDeclared(rule.records, record_kinds_, "record_kinds", "record kind", path + "/records",
                    rule.pos, name + " covers", "the rule");
      CheckDeclared(rule.keep, categories_, "categories", "category", path + "/keep", rule.pos,
                    name + " keeps", "the rule");
      for (std::size_t j = 0; j < rule.keep.size(); ++j) {
        const std::string& key = rule.keep[j];
        if (!Contains(categories_, key) || Contains(rule.categories, key)) continue;
        sink_.Error(s_.Get(fmt::format("{}/keep/{}", path, j), rule.pos),
                    fmt::format("{} keeps category '{}', which the rule does not cover; add it to "
                                "the rule's categories or remove it from 'keep'",
                                name, key));
      }
      if (rule.anchor != AnchorKind::kAfterEvent || rule.after.empty()) continue;
      SourcePos pos = s_.Get(path + "/after", rule.pos);
      if (rule.after == "closed" || rule.after == "collected") continue;
      if (!Contains(anchors_, rule.after)) {
        std::vector<std::string> known = {"closed", "collected"};
        known.insert(known.end(), anchors_.begin(), anchors_.end());
        std::optional<std::string> guess = ClosestMatch(rule.after, known);
        sink_.Error(pos, fmt::format("{} is anchored on unknown event '{}'{}; expected one of: {} "
                                     "(events of your own must be declared in a record kind's "
                                     "'anchors')",
                                     name, rule.after,
                                     guess ? fmt::format(" (did you mean '{}'?)", *guess) : "",
                                     fmt::join(known, ", ")));
        continue;
      }
      // A custom event happens to records of the kinds that declare it.
      for (std::size_t j = 0; j < rule.records.size(); ++j) {
        const RecordKind* kind = p_.FindRecordKind(rule.records[j]);
        if (kind == nullptr || Contains(kind->anchors, rule.after)) continue;
        sink_.Error(s_.Get(fmt::format("{}/records/{}", path, j), rule.pos),
                    fmt::format("{} is anchored on '{}', but record kind '{}' has no such event "
                                "(its 'anchors' do not list it), so its records would never be "
                                "due; add the anchor to the record kind or move it to another rule",
                                name, rule.after, kind->id));
      }
    }
  }

  void CheckRights() {
    for (const Right& right : p_.rights) {
      CheckDeclared(right.self_service, categories_, "categories", "category",
                    "rights/" + right.name + "/self_service", right.pos,
                    fmt::format("right '{}' lets people edit", right.name), "self_service");
    }
  }

  void CheckCookies() {
    for (const CookieCategory& cookie : p_.cookies) {
      if (cookie.purpose.empty()) continue;
      const std::string path = "cookies/" + cookie.id;
      const std::string name = fmt::format("cookie category '{}'", cookie.id);
      SourcePos pos = s_.Get(path + "/purpose", cookie.pos);
      const Purpose* x = p_.FindPurpose(cookie.purpose);
      if (x == nullptr) {
        if (s_.IsBroken("purposes")) continue;
        sink_.Error(pos, fmt::format("{} names purpose '{}', which is not declared under "
                                     "purposes{}; declare it or pick a declared purpose",
                                     name, cookie.purpose, Mean(cookie.purpose, purposes_)));
      } else if (x->basis == LegalBasis::kConsent && !cookie.consent_required) {
        sink_.Error(s_.Get(path + "/consent", cookie.pos),
                    fmt::format("{} does not ask for consent ('consent: false') but its purpose "
                                "'{}' is consent-based; set 'consent: true' or pick a purpose with "
                                "another basis",
                                name, x->key));
      }
    }
  }

  void CheckOrganization() {
    const Organization& org = p_.organization;
    if (org.role == "processor" && org.role_note.empty()) {
      sink_.Warning(s_.Get("organization/role", org.pos),
                    "organization is a processor but has no 'role_note' saying who the "
                    "controllers are; add one so that the notice can tell people whom to ask");
    }
  }

  const Policy& p_;
  const SourceInfo& s_;
  internal::DiagnosticSink sink_;
  std::vector<std::string> categories_;
  std::vector<std::string> purposes_;
  std::vector<std::string> record_kinds_;
  std::vector<std::string> anchors_;  // declared by record kinds
};

}  // namespace

std::vector<Diagnostic> ValidatePolicy(const Policy& policy, const SourceInfo& sources) {
  return Validator(policy, sources).Run();
}

std::vector<Diagnostic> ValidatePolicy(const Policy& policy) {
  return ValidatePolicy(policy, SourceInfo());
}

}  // namespace custodian::policy

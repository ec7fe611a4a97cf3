#include "policy/model.h"

#include <fmt/format.h>

namespace custodian::policy {
namespace {

template <typename T, typename Key>
const T* FindBy(const std::vector<T>& items, const std::string& wanted, Key T::*member) {
  for (const T& item : items) {
    if (item.*member == wanted) return &item;
  }
  return nullptr;
}

}  // namespace

std::string Duration::ToString() const {
  const char* unit_name = "day";
  switch (unit) {
    case Unit::kDays:
      unit_name = "day";
      break;
    case Unit::kWeeks:
      unit_name = "week";
      break;
    case Unit::kMonths:
      unit_name = "month";
      break;
    case Unit::kYears:
      unit_name = "year";
      break;
  }
  return fmt::format("{} {}{}", count, unit_name, count == 1 ? "" : "s");
}

std::string Date::ToString() const { return fmt::format("{:04}-{:02}-{:02}", year, month, day); }

const Category* Policy::FindCategory(const std::string& key) const {
  return FindBy(categories, key, &Category::key);
}
const Purpose* Policy::FindPurpose(const std::string& key) const {
  return FindBy(purposes, key, &Purpose::key);
}
const Recipient* Policy::FindRecipient(const std::string& id) const {
  return FindBy(recipients, id, &Recipient::id);
}
const RecordKind* Policy::FindRecordKind(const std::string& id) const {
  return FindBy(record_kinds, id, &RecordKind::id);
}
const Right* Policy::FindRight(const std::string& name) const {
  return FindBy(rights, name, &Right::name);
}

const char* LegalBasisName(LegalBasis b) {
  switch (b) {
    case LegalBasis::kContract:
      return "contract";
    case LegalBasis::kLegalObligation:
      return "legal_obligation";
    case LegalBasis::kConsent:
      return "consent";
    case LegalBasis::kLegitimateInterest:
      return "legitimate_interest";
    case LegalBasis::kVitalInterest:
      return "vital_interest";
    case LegalBasis::kPublicTask:
      return "public_task";
  }
  return "unknown";
}

const char* LegalBasisPlainWords(LegalBasis b) {
  switch (b) {
    case LegalBasis::kContract:
      return "to provide the service you signed up for (contract)";
    case LegalBasis::kLegalObligation:
      return "because the law requires us to (legal obligation)";
    case LegalBasis::kConsent:
      return "because you agreed to it, and only until you withdraw your consent (consent)";
    case LegalBasis::kLegitimateInterest:
      return "because we have a legitimate interest in it that does not override your rights, "
             "and you may object (legitimate interest)";
    case LegalBasis::kVitalInterest:
      return "to protect your life or someone else's (vital interest)";
    case LegalBasis::kPublicTask:
      return "to carry out a task in the public interest or an official duty (public task)";
  }
  return "unknown";
}

const char* RecipientKindName(RecipientKind k) {
  switch (k) {
    case RecipientKind::kProcessor:
      return "processor";
    case RecipientKind::kThirdParty:
      return "third_party";
    case RecipientKind::kAffiliate:
      return "affiliate";
    case RecipientKind::kAuthority:
      return "authority";
  }
  return "unknown";
}

const char* NormalizerName(Normalizer n) {
  switch (n) {
    case Normalizer::kText:
      return "text";
    case Normalizer::kPhone:
      return "phone";
    case Normalizer::kEmail:
      return "email";
    case Normalizer::kDate:
      return "date";
  }
  return "unknown";
}

const char* DataSourceName(DataSource s) {
  switch (s) {
    case DataSource::kProvided:
      return "provided";
    case DataSource::kObserved:
      return "observed";
    case DataSource::kDerived:
      return "derived";
  }
  return "unknown";
}

const char* RetentionActionName(RetentionAction a) {
  switch (a) {
    case RetentionAction::kDelete:
      return "delete";
    case RetentionAction::kAnonymize:
      return "anonymize";
  }
  return "unknown";
}

}  // namespace custodian::policy

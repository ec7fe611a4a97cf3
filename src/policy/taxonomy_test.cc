// Tests of the taxonomy, jurisdiction defaults, typo suggestions and the
// model's small helpers.
#include "policy/taxonomy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "policy/jurisdiction.h"
#include "policy/model.h"
#include "policy/suggest.h"

namespace custodian::policy {
namespace {

using testing::ElementsAre;

TEST(Taxonomy, KnowsCategoriesAndUses) {
  EXPECT_TRUE(IsTaxonomyKey(TaxonomyKind::kDataCategory, "user.contact.phone_number"));
  EXPECT_STREQ(TaxonomyLabel(TaxonomyKind::kDataCategory, "user.contact.phone_number"),
               "Phone number");
  EXPECT_TRUE(IsTaxonomyKey(TaxonomyKind::kDataUse, "marketing.communications.sms"));
  EXPECT_STREQ(TaxonomyLabel(TaxonomyKind::kDataUse, "essential.service.payment_processing"),
               "Payment processing");
  // The two kinds are separate namespaces.
  EXPECT_FALSE(IsTaxonomyKey(TaxonomyKind::kDataUse, "user.name"));
  EXPECT_FALSE(IsTaxonomyKey(TaxonomyKind::kDataCategory, "essential.service"));
  EXPECT_EQ(TaxonomyLabel(TaxonomyKind::kDataCategory, "user.contact.phone"), nullptr);
  EXPECT_FALSE(IsTaxonomyKey(TaxonomyKind::kDataCategory, ""));
}

TEST(Taxonomy, KeysAreUniqueAndTheirParentsKnown) {
  for (TaxonomyKind kind : {TaxonomyKind::kDataCategory, TaxonomyKind::kDataUse}) {
    std::vector<std::string> keys = TaxonomyKeys(kind);
    ASSERT_GT(keys.size(), 40u);
    std::set<std::string> unique(keys.begin(), keys.end());
    EXPECT_EQ(unique.size(), keys.size());
    for (const std::string& key : keys) {
      std::string parent(ParentKey(key));
      if (!parent.empty()) {
        EXPECT_TRUE(unique.count(parent)) << key << " has an unknown parent";
      }
    }
  }
  EXPECT_EQ(TaxonomyKeys(TaxonomyKind::kDataCategory).front(), "system");
}

TEST(Taxonomy, ParentKey) {
  EXPECT_EQ(ParentKey("user.contact.phone_number"), "user.contact");
  EXPECT_EQ(ParentKey("user.contact"), "user");
  EXPECT_EQ(ParentKey("user"), "");
  EXPECT_EQ(ParentKey(""), "");
}

TEST(Taxonomy, Children) {
  EXPECT_THAT(TaxonomyChildren(TaxonomyKind::kDataUse, "marketing.communications"),
              ElementsAre("marketing.communications.email", "marketing.communications.sms"));
  EXPECT_THAT(TaxonomyChildren(TaxonomyKind::kDataCategory, "user.name"),
              ElementsAre("user.name.first", "user.name.last"));
  EXPECT_TRUE(TaxonomyChildren(TaxonomyKind::kDataCategory, "user.payment").empty());
  EXPECT_TRUE(TaxonomyChildren(TaxonomyKind::kDataCategory, "").empty());
}

TEST(Taxonomy, SuggestsCloseKeysOnly) {
  EXPECT_EQ(SuggestTaxonomyKey(TaxonomyKind::kDataCategory, "user.contact.emial"),
            "user.contact.email");
  EXPECT_EQ(SuggestTaxonomyKey(TaxonomyKind::kDataCategory, "user.goverment_id"),
            "user.government_id");
  EXPECT_EQ(SuggestTaxonomyKey(TaxonomyKind::kDataUse, "marketing.comunications.sms"),
            "marketing.communications.sms");
  EXPECT_EQ(SuggestTaxonomyKey(TaxonomyKind::kDataUse, "essential.servce"), "essential.service");
  EXPECT_EQ(SuggestTaxonomyKey(TaxonomyKind::kDataCategory, "customer.favourite_colour"),
            std::nullopt);
  // An exact key is not a typo of anything.
  EXPECT_EQ(SuggestTaxonomyKey(TaxonomyKind::kDataCategory, "user.name"), std::nullopt);
}

TEST(Suggest, EditDistance) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("abc", ""), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("monthz", "months"), 1u);
  EXPECT_EQ(EditDistance("emial", "email"), 2u);
}

TEST(Suggest, ClosestMatch) {
  std::vector<std::string> keys = {"label", "description", "sensitive"};
  EXPECT_EQ(ClosestMatch("lable", keys), "label");
  EXPECT_EQ(ClosestMatch("Label", keys), "label");  // case alone is a typo too
  EXPECT_EQ(ClosestMatch("sensitiv", keys), "sensitive");
  EXPECT_EQ(ClosestMatch("colour", keys), std::nullopt);
  EXPECT_EQ(ClosestMatch("label", keys), std::nullopt);
  // Short words do not match everything two edits away.
  EXPECT_EQ(ClosestMatch("ab", std::vector<std::string>{"cd"}), std::nullopt);
}

TEST(Jurisdiction, GdprCountries) {
  for (const char* code : {"DE", "FR", "IE", "GR", "SE", "NO", "IS", "LI", "GB"}) {
    JurisdictionDefaults d = DefaultsFor(code);
    EXPECT_EQ(d.rights_deadline_days, 30) << code;
    EXPECT_EQ(d.extension_days, 60) << code;
    EXPECT_NE(d.law.find("GDPR"), std::string::npos) << code;
  }
  EXPECT_EQ(DefaultsFor("DE").law, "GDPR");
  EXPECT_EQ(DefaultsFor("GB").law, "UK GDPR");
}

TEST(Jurisdiction, IndiaIndonesiaAndOthers) {
  JurisdictionDefaults in = DefaultsFor("IN");
  EXPECT_EQ(in.law, "DPDP Act 2023 / DPDP Rules 2025");
  EXPECT_EQ(in.rights_deadline_days, 90);
  EXPECT_EQ(in.grievance_deadline_days, 90);
  EXPECT_EQ(in.extension_days, 0);
  JurisdictionDefaults id = DefaultsFor("ID");
  EXPECT_EQ(id.rights_deadline_days, 3);
  EXPECT_EQ(id.extension_days, 0);
  EXPECT_NE(id.law.find("27 of 2022"), std::string::npos);
  JurisdictionDefaults us = DefaultsFor("US");
  EXPECT_EQ(us.law, "");
  EXPECT_EQ(us.rights_deadline_days, 30);
  EXPECT_EQ(us.extension_days, 0);
  EXPECT_EQ(DefaultsFor("de").law, "");  // codes are upper case
  // Greece's ISO code is GR; the EU's own "EL" is not an ISO code.
  EXPECT_EQ(DefaultsFor("EL").law, "");
}

TEST(Model, Names) {
  EXPECT_STREQ(LegalBasisName(LegalBasis::kLegitimateInterest), "legitimate_interest");
  EXPECT_STREQ(LegalBasisName(LegalBasis::kLegalObligation), "legal_obligation");
  EXPECT_STREQ(RecipientKindName(RecipientKind::kThirdParty), "third_party");
  EXPECT_STREQ(NormalizerName(Normalizer::kPhone), "phone");
  EXPECT_STREQ(DataSourceName(DataSource::kObserved), "observed");
  EXPECT_STREQ(RetentionActionName(RetentionAction::kAnonymize), "anonymize");
  EXPECT_STREQ(LegalBasisPlainWords(LegalBasis::kContract),
               "to provide the service you signed up for (contract)");
  for (LegalBasis b :
       {LegalBasis::kContract, LegalBasis::kLegalObligation, LegalBasis::kConsent,
        LegalBasis::kLegitimateInterest, LegalBasis::kVitalInterest, LegalBasis::kPublicTask}) {
    std::string words = LegalBasisPlainWords(b);
    std::string name = LegalBasisName(b);
    for (char& c : name) c = c == '_' ? ' ' : c;
    // Plain words end by naming the basis, so the notice stays checkable against the law.
    EXPECT_TRUE(words.ends_with("(" + name + ")")) << words;
  }
}

TEST(Model, Finds) {
  Policy p;
  p.categories.push_back({.key = "user.name"});
  p.purposes.push_back({.key = "essential.service"});
  p.recipients.push_back({.id = "razorpay"});
  p.record_kinds.push_back({.id = "billing"});
  p.rights.push_back({.name = "access"});
  ASSERT_NE(p.FindCategory("user.name"), nullptr);
  EXPECT_EQ(p.FindCategory("user.name"), &p.categories[0]);
  EXPECT_EQ(p.FindCategory("user"), nullptr);
  EXPECT_EQ(p.FindPurpose("essential.service"), &p.purposes[0]);
  EXPECT_EQ(p.FindPurpose("essential"), nullptr);
  EXPECT_EQ(p.FindRecipient("razorpay"), &p.recipients[0]);
  EXPECT_EQ(p.FindRecordKind("billing"), &p.record_kinds[0]);
  EXPECT_EQ(p.FindRight("access"), &p.rights[0]);
  EXPECT_EQ(p.FindRight("erasure"), nullptr);
}

}  // namespace
}  // namespace custodian::policy

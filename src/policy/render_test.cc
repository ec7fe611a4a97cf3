// Tests of the notice renderer on small policies built by hand: each phrase of
// the notice, the markdown and HTML structure, escaping, and the JSON form.

#include "policy/render.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "policy/render_internal.h"

namespace custodian::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Category MakeCategory(std::string key, std::string label, DataSource source = DataSource::kProvided,
                      bool sensitive = false) {
  Category c;
  c.key = std::move(key);
  c.label = std::move(label);
  c.source = source;
  c.sensitive = sensitive;
  return c;
}

RecordKind MakeRecordKind(std::string id, std::string label, std::string category) {
  RecordKind r;
  r.id = std::move(id);
  r.label = std::move(label);
  r.category = std::move(category);
  return r;
}

Purpose MakePurpose(std::string key, std::string label, LegalBasis basis,
                    std::vector<std::string> categories) {
  Purpose p;
  p.key = std::move(key);
  p.label = std::move(label);
  p.basis = basis;
  p.categories = std::move(categories);
  return p;
}

Right MakeRight(std::string name) {
  Right r;
  r.name = std::move(name);
  return r;
}

// A small ISP policy in the shape of examples/policies/interjet.yaml.
Policy SmallPolicy() {
  Policy p;
  p.version = "2025.1";
  p.effective = Date{2025, 1, 1};
  p.organization.name = "Acme";
  p.organization.legal_name = "Acme Networks Pvt Ltd";
  p.organization.jurisdiction = "IN";
  p.organization.website = "https://acme.example";
  p.organization.contacts = {{"email", "privacy@acme.example", {}},
                             {"whatsapp", "+91 8870-100-100", {}}};
  p.organization.grievance_officer.title = "Grievance Officer";
  p.organization.grievance_officer.contacts = {{"email", "grievance@acme.example", {}}};
  p.categories = {
      MakeCategory("user.name", "Name"),
      MakeCategory("user.contact.phone_number", "Phone number"),
      MakeCategory("user.contact.email", "Email address"),
      MakeCategory("user.government_id", "Government ID proofs", DataSource::kProvided, true),
      MakeCategory("user.financial", "Billing and transaction history"),
      MakeCategory("system.operations", "Service logs", DataSource::kObserved),
      MakeCategory("user.content.self_image", "Router photos and proof of delivery",
                   DataSource::kObserved),
      MakeCategory("user.behavior.purchase_history", "Purchase history", DataSource::kDerived),
  };
  p.record_kinds = {
      MakeRecordKind("billing", "Billing records", "user.financial"),
      MakeRecordKind("service_log", "Service logs", "system.operations"),
      MakeRecordKind("media", "Router photos and proof of delivery", "user.content.self_image")};
  p.purposes = {
      MakePurpose("essential.service", "Running your internet service", LegalBasis::kContract,
                  {"user.name", "user.contact.phone_number", "user.content.self_image"}),
      MakePurpose("essential.legal_obligation", "Regulatory reporting",
                  LegalBasis::kLegalObligation, {"user.government_id", "system.operations"}),
      MakePurpose("marketing.communications", "Special offers", LegalBasis::kConsent,
                  {"user.name", "user.contact.phone_number", "user.contact.email"}),
  };
  p.purposes[0].roles = {"admin", "agent"};
  p.purposes[2].channels = {"whatsapp", "sms", "email"};
  p.purposes[2].opt_out = {"sms_stop", "whatsapp_stop", "email_link", "portal"};
  Recipient razorpay;
  razorpay.id = "razorpay";
  razorpay.label = "Payment providers (Razorpay)";
  razorpay.kind = RecipientKind::kProcessor;
  razorpay.purposes = {"essential.service"};
  razorpay.categories = {"user.name", "user.financial"};
  razorpay.country = "IN";
  p.recipients = {razorpay};
  RetentionRule active;
  active.categories = {"user.name", "user.contact.phone_number"};
  RetentionRule billing;
  billing.records = {"billing"};
  billing.anchor = AnchorKind::kAfterEvent;
  billing.after = "closed";
  billing.duration = Duration{12, Duration::Unit::kMonths};
  billing.reason = "Audit and compliance";
  p.retention = {active, billing};
  p.rights = {MakeRight("access"), MakeRight("erasure"), MakeRight("grievance")};
  p.rights[1].deadline_days = 15;
  p.rights[1].exceptions = {"Billing records we must keep for audit"};
  p.cookies = {CookieCategory{
      "strictly_necessary", "Strictly necessary", "essential.service", false, {}, "", {}}};
  p.security = {SecurityMeasure{"operator_2fa", "Two-factor authentication", "required", {}},
                SecurityMeasure{"firewall", "Firewall protection", "", {}}};
  p.changes.url = "https://acme.example/privacy";
  p.changes.text = "Continued use implies consent to the updated policy.";
  return p;
}

RetentionRule Rule(std::vector<std::string> categories, std::vector<std::string> records = {}) {
  RetentionRule r;
  r.categories = std::move(categories);
  r.records = std::move(records);
  return r;
}

RetentionRule After(RetentionRule r, std::string event, int64_t count, Duration::Unit unit) {
  r.anchor = AnchorKind::kAfterEvent;
  r.after = std::move(event);
  r.duration = Duration{count, unit};
  return r;
}

// --- DescribeRetentionRule --------------------------------------------------

TEST(RenderRetentionTest, WhileActive) {
  const Policy p = SmallPolicy();
  EXPECT_EQ(DescribeRetentionRule(p, Rule({"user.name", "user.contact.phone_number"})),
            "Name and phone number are kept while you are an active customer and deleted when "
            "your account is closed.");
  EXPECT_EQ(DescribeRetentionRule(p, Rule({"user.name"})),
            "Name is kept while you are an active customer and deleted when your account is "
            "closed.");
}

TEST(RenderRetentionTest, TwelveMonthsAfterClosedWithReason) {
  const Policy p = SmallPolicy();
  RetentionRule r = After(Rule({"user.financial", "system.operations"}, {"billing", "service_log"}),
                          "closed", 12, Duration::Unit::kMonths);
  r.reason = "Audit and compliance";
  EXPECT_EQ(DescribeRetentionRule(p, r),
            "Billing records and service logs are kept for 12 months after your account is "
            "closed, for audit and compliance, then deleted.");
}

TEST(RenderRetentionTest, NinetyDaysAfterVerified) {
  const Policy p = SmallPolicy();
  const RetentionRule r =
      After(Rule({"user.content.self_image"}, {"media"}), "verified", 90, Duration::Unit::kDays);
  EXPECT_EQ(DescribeRetentionRule(p, r),
            "Router photos and proof of delivery are deleted 90 days after they are verified.");
}

TEST(RenderRetentionTest, Anonymize) {
  const Policy p = SmallPolicy();
  RetentionRule r =
      After(Rule({"user.behavior.purchase_history"}), "closed", 30, Duration::Unit::kDays);
  r.action = RetentionAction::kAnonymize;
  EXPECT_EQ(DescribeRetentionRule(p, r),
            "Purchase history is kept for 30 days after your account is closed, then anonymized "
            "so it can no longer identify you.");
  r.reason = "To understand how our services are used";
  r.keep = {"user.behavior.purchase_history"};
  EXPECT_EQ(DescribeRetentionRule(p, r),
            "Purchase history is kept for 30 days after your account is closed, to understand how "
            "our services are used, then anonymized so it can no longer identify you (we keep "
            "only a general form of purchase history).");
  r.min_group = 5;
  EXPECT_EQ(DescribeRetentionRule(p, r),
            "Purchase history is kept for 30 days after your account is closed, to understand how "
            "our services are used, then anonymized so it can no longer identify you (we keep "
            "only a general form of purchase history, and count it only in groups of at least 5 "
            "people).");

  RetentionRule active = Rule({"user.name", "user.contact.email"});
  active.action = RetentionAction::kAnonymize;
  EXPECT_EQ(DescribeRetentionRule(p, active),
            "Name and email address are kept while you are an active customer and anonymized "
            "when your account is closed so they can no longer identify you.");
}

TEST(RenderRetentionTest, OtherAnchorsAndShapes) {
  Policy p = SmallPolicy();
  EXPECT_EQ(DescribeRetentionRule(
                p, After(Rule({"system.operations"}), "collected", 180, Duration::Unit::kDays)),
            "Service logs are deleted 180 days after they are collected.");
  EXPECT_EQ(DescribeRetentionRule(
                p, After(Rule({"user.name"}), "contract_end", 1, Duration::Unit::kYears)),
            "Name is deleted 1 year after the contract end event.");
  RetentionRule until = Rule({"user.name"});
  until.anchor = AnchorKind::kAfterEvent;
  until.after = "verified";
  EXPECT_EQ(DescribeRetentionRule(p, until), "Name is deleted when it is verified.");

  RetentionRule extended = Rule({"user.financial"});
  extended.duration = Duration{8, Duration::Unit::kYears};
  extended.reason = "Tax law.";
  EXPECT_EQ(DescribeRetentionRule(p, extended),
            "Billing and transaction history are kept while you are an active customer and for "
            "8 years after your account is closed, for tax law, then deleted.");

  RetentionRule with_reason = Rule({"user.name"});
  with_reason.reason = "To provide the service";
  EXPECT_EQ(DescribeRetentionRule(p, with_reason),
            "Name is kept while you are an active customer (to provide the service) and deleted "
            "when your account is closed.");
  EXPECT_EQ(render_internal::JoinWords({"Account (name, email)", "password"}),
            "Account (name, email) and password");
  EXPECT_EQ(render_internal::JoinWords({"a, b", "c", "d"}), "a, b; c; and d");
  EXPECT_EQ(render_internal::JoinWords({"a", "b", "c"}, "or"), "a, b or c");
}

TEST(RenderRetentionTest, ListsEveryRecordAndUncoveredCategoryOnce) {
  Policy p = SmallPolicy();
  p.categories.push_back(MakeCategory("user.payment", "Payment information (UPI, cards)"));
  // user.financial is covered by the billing record kind; the rest are named.
  const RetentionRule r =
      Rule({"user.financial", "user.payment", "user.name", "user.name"}, {"billing"});
  EXPECT_EQ(DescribeRetentionRule(p, r),
            "Billing records; payment information (UPI, cards); and name are kept while you are "
            "an active customer and deleted when your account is closed.");
  // Acronyms keep their case in the middle of a sentence.
  p.categories.push_back(MakeCategory("user.device.ip_address", "IP address"));
  EXPECT_EQ(DescribeRetentionRule(p, Rule({"user.name", "user.device.ip_address"})),
            "Name and IP address are kept while you are an active customer and deleted when your "
            "account is closed.");
}

TEST(RenderWordsTest, LowerFirstKeepsAcronymsAndBrands) {
  using render_internal::LowerFirst;
  EXPECT_EQ(LowerFirst("Name"), "name");
  EXPECT_EQ(LowerFirst("Messages, images and recordings"), "messages, images and recordings");
  EXPECT_EQ(LowerFirst("Government ID proofs"), "government ID proofs");
  EXPECT_EQ(LowerFirst("IP address"), "IP address");
  EXPECT_EQ(LowerFirst("WhatsApp chats"), "WhatsApp chats");
  EXPECT_EQ(LowerFirst("4G usage"), "4G usage");
  EXPECT_EQ(LowerFirst("A/B test results"), "A/B test results");
  EXPECT_EQ(LowerFirst("A test"), "a test");
  EXPECT_EQ(LowerFirst("Children's data"), "children's data");
}

// --- the notice's phrases ---------------------------------------------------

TEST(RenderNoticeTest, MarkdownSaysWhatThePolicySays) {
  const std::string md = RenderNotice(SmallPolicy(), NoticeFormat::kMarkdown);
  EXPECT_THAT(md, HasSubstr("# Acme privacy notice\n"));
  EXPECT_THAT(md, HasSubstr("Version 2025.1, effective 1 January 2025."));
  EXPECT_THAT(md, HasSubstr("Acme (Acme Networks Pvt Ltd)"));
  EXPECT_THAT(md, HasSubstr("We are the controller of your personal data"));
  EXPECT_THAT(md, HasSubstr("[privacy@acme.example](mailto:privacy@acme.example)"));
  EXPECT_THAT(md, HasSubstr("[+91 8870-100-100](https://wa.me/918870100100)"));
  // What we collect: grouped by taxonomy parent, sensitive marked, source in words.
  EXPECT_THAT(md, HasSubstr("| Phone number | Contact data | Provided by you | No |"));
  EXPECT_THAT(md,
              HasSubstr("| Government ID proofs | Government ID | Provided by you | **Yes** |"));
  EXPECT_THAT(md, HasSubstr("| Service logs | Operations data | Recorded automatically | No |"));
  EXPECT_THAT(md, HasSubstr("| Purchase history | Observed behaviour | Derived from other data |"));
  EXPECT_THAT(md, HasSubstr("- Billing records (billing and transaction history)\n"));
  EXPECT_THAT(md, HasSubstr("- Service logs\n"));
  // How we use it.
  EXPECT_THAT(md, HasSubstr("### Running your internet service"));
  EXPECT_THAT(
      md, HasSubstr(std::string("- Legal basis: ") + LegalBasisPlainWords(LegalBasis::kContract)));
  EXPECT_THAT(md,
              HasSubstr("- Data used: Name, phone number and router photos and proof of delivery"));
  EXPECT_THAT(md, HasSubstr("- Who at Acme may use it: staff with the admin or agent role"));
  EXPECT_THAT(md, HasSubstr("- Only if you opt in"));
  // Who we share it with.
  EXPECT_THAT(md, HasSubstr("### Payment providers (Razorpay)"));
  EXPECT_THAT(md, HasSubstr("on our instructions (processor)"));
  EXPECT_THAT(md, HasSubstr("- Why: Running your internet service"));
  EXPECT_THAT(md, HasSubstr("- Data shared: Name and billing and transaction history"));
  EXPECT_THAT(md, HasSubstr("- Where the data goes: India"));
  // How we protect it.
  EXPECT_THAT(md, HasSubstr("| Two-factor authentication | **Enforced by custodian** "
                            "(operator\\_2fa: required) |"));
  EXPECT_THAT(md, HasSubstr("| Firewall protection | Declared practice |"));
  // How long we keep it: every rule, in words.
  EXPECT_THAT(md, HasSubstr("\n- Name and phone number are kept while you are an active customer "
                            "and deleted when your account is closed.\n"));
  EXPECT_THAT(md, HasSubstr("\n- Billing records are kept for 12 months after your account is "
                            "closed, for audit and compliance, then deleted.\n"));
  // Rights: deadline from the policy or from the jurisdiction (IN: 90 days).
  EXPECT_THAT(md,
              HasSubstr("| Access your data | See the personal data we hold about you and get "
                        "a copy. | 90 days (the default under DPDP Act 2023 / DPDP Rules "
                        "2025) | A one-time code (OTP) sent to your contact details on file |"));
  EXPECT_THAT(md, HasSubstr("| Delete your data | Have your personal data deleted. Except: Billing "
                            "records we must keep for audit. | 15 days |"));
  EXPECT_THAT(md, HasSubstr("To exercise any of these rights, contact us:"));
  // Marketing and how to opt out.
  EXPECT_THAT(md, HasSubstr("We do this only if you opt in. We contact you by WhatsApp, SMS and "
                            "email."));
  EXPECT_THAT(md, HasSubstr("- reply STOP to any promotional SMS\n"));
  EXPECT_THAT(md, HasSubstr("- reply STOP on WhatsApp\n"));
  EXPECT_THAT(md, HasSubstr("- use the unsubscribe link in any marketing email\n"));
  EXPECT_THAT(md, HasSubstr("- change your choices in the privacy portal\n"));
  // Cookies, grievance officer, changes.
  EXPECT_THAT(md, HasSubstr("| Strictly necessary | Running your internet service | Not asked |"));
  EXPECT_THAT(md, HasSubstr("For privacy concerns or complaints, contact our grievance officer."));
  EXPECT_THAT(md, HasSubstr("We respond to grievances within 90 days"));
  EXPECT_THAT(md, HasSubstr("we post the new version at "
                            "[https://acme.example/privacy](https://acme.example/privacy)."));
  EXPECT_THAT(md, HasSubstr("Continued use implies consent to the updated policy."));
}

TEST(RenderNoticeTest, MarkdownHasEverySectionInOrderWithContents) {
  const std::string md = RenderNotice(SmallPolicy(), NoticeFormat::kMarkdown);
  const std::vector<std::pair<std::string, std::string>> sections = {
      {"Who we are", "who-we-are"},
      {"What we collect", "what-we-collect"},
      {"How we use it", "how-we-use-it"},
      {"Who we share it with", "who-we-share-it-with"},
      {"How we protect it", "how-we-protect-it"},
      {"How long we keep it", "how-long-we-keep-it"},
      {"Your rights and how to exercise them", "your-rights-and-how-to-exercise-them"},
      {"Marketing and how to opt out", "marketing-and-how-to-opt-out"},
      {"Cookies", "cookies"},
      {"Grievance officer", "grievance-officer"},
      {"Changes to this notice", "changes-to-this-notice"},
      {"Version and effective date", "version-and-effective-date"},
  };
  size_t last = 0;
  for (const auto& [title, id] : sections) {
    EXPECT_THAT(md, HasSubstr("[" + title + "](#" + id + ")"));
    const size_t at = md.find("\n## " + title + "\n");
    ASSERT_NE(at, std::string::npos) << title;
    EXPECT_GT(at, last) << title << " is out of order";
    last = at;
  }
}

TEST(RenderNoticeTest, ProcessorNamesTheController) {
  Policy p = SmallPolicy();
  p.organization.role = "processor";
  p.organization.role_note = "Agencies that upload customer data are the controllers.";
  const std::string md = RenderNotice(p, NoticeFormat::kMarkdown);
  EXPECT_THAT(md, HasSubstr("We act as a processor"));
  EXPECT_THAT(md, HasSubstr("Agencies that upload customer data are the controllers."));
  EXPECT_THAT(md, Not(HasSubstr("We are the controller")));
}

TEST(RenderNoticeTest, GdprDeadlineShowsItsExtension) {
  Policy p = SmallPolicy();
  p.organization.jurisdiction = "DE";
  const std::string md = RenderNotice(p, NoticeFormat::kMarkdown);
  EXPECT_THAT(md, HasSubstr("30 days (the default under GDPR), or up to 60 days more where "
                            "the law allows"));
  EXPECT_THAT(md, HasSubstr("We are based in Germany."));
}

TEST(RenderNoticeTest, GrievanceOfficerByNameAndTitle) {
  Policy p = SmallPolicy();
  p.organization.grievance_officer.name = "Asha Rao";
  p.organization.grievance_officer.title = "Privacy contact";
  const std::string md = RenderNotice(p, NoticeFormat::kMarkdown);
  EXPECT_THAT(md, HasSubstr("For privacy concerns or complaints, contact our grievance officer, "
                            "Asha Rao (Privacy contact).\n\n- Email: "
                            "[grievance@acme.example](mailto:grievance@acme.example)\n"));
  p.organization.grievance_officer = {};
  EXPECT_THAT(RenderNotice(p, NoticeFormat::kMarkdown),
              HasSubstr("This policy names no grievance officer"));
}

TEST(RenderNoticeTest, EmptySectionsSaySo) {
  Policy p;
  p.organization.name = "Tiny";
  const std::string md = RenderNotice(p, NoticeFormat::kMarkdown);
  EXPECT_THAT(md, HasSubstr("We do not collect personal data."));
  EXPECT_THAT(md, HasSubstr("We do not share your personal data with other organisations."));
  EXPECT_THAT(md, HasSubstr("None of our uses of your personal data is based on your consent."));
  EXPECT_THAT(md, HasSubstr("This policy declares no cookies."));
  EXPECT_THAT(md, HasSubstr("Version unnumbered."));
}

TEST(RenderNoticeTest, MarkdownEscapesPolicyText) {
  Policy p = SmallPolicy();
  p.categories[0].label = "Name | *alias* <b>";
  const std::string md = RenderNotice(p, NoticeFormat::kMarkdown);
  EXPECT_THAT(md, HasSubstr("| Name \\| \\*alias\\* \\<b\\> | Name |"));
  EXPECT_THAT(md, Not(HasSubstr("<b>")));
  EXPECT_EQ(render_internal::EscapeMarkdown("a\nb &amp; c & d"), "a b \\&amp; c & d");
}

// --- HTML -------------------------------------------------------------------

TEST(RenderHtmlTest, IsOneSelfContainedAccessiblePage) {
  const std::string html = RenderNotice(SmallPolicy(), NoticeFormat::kHtml);
  EXPECT_EQ(html.rfind("<!doctype html>\n<html lang=\"en\">", 0), 0u);
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html, HasSubstr("<meta name=\"viewport\" content=\"width=device-width, "
                              "initial-scale=1\">"));
  EXPECT_THAT(html, HasSubstr("<title>Acme privacy notice</title>"));
  EXPECT_THAT(html, HasSubstr("<style>"));
  EXPECT_THAT(html, HasSubstr("<header>"));
  EXPECT_THAT(html, HasSubstr("<nav aria-label=\"Contents\">"));
  EXPECT_THAT(html, HasSubstr("<main id=\"main\">"));
  EXPECT_THAT(html, HasSubstr("<caption>Personal data we collect</caption>"));
  EXPECT_THAT(html, HasSubstr("<th scope=\"col\">Data</th>"));
  EXPECT_THAT(html, HasSubstr("<th scope=\"row\">Name</th>"));
  EXPECT_THAT(html, HasSubstr("<time datetime=\"2025-01-01\">1 January 2025</time>"));
  // Nothing to run and nothing to fetch.
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("url(")));
  EXPECT_THAT(html, Not(HasSubstr("@import")));
  EXPECT_EQ(html.substr(html.size() - 8), "</html>\n");
}

TEST(RenderHtmlTest, NavLinksToEverySectionAndEachHasAHeading) {
  const std::string html = RenderNotice(SmallPolicy(), NoticeFormat::kHtml);
  const size_t nav_begin = html.find("<nav");
  const size_t nav_end = html.find("</nav>");
  ASSERT_NE(nav_begin, std::string::npos);
  ASSERT_NE(nav_end, std::string::npos);
  const std::string nav = html.substr(nav_begin, nav_end - nav_begin);

  // Each <section id="X"> is labelled by, and opens with, its <h2 id="X-title">.
  std::set<std::string> ids;
  size_t count = 0;
  const std::string open = "<section id=\"";
  for (size_t at = html.find("<section"); at != std::string::npos;
       at = html.find("<section", at + 1)) {
    ++count;
    ASSERT_EQ(html.compare(at, open.size(), open), 0);
    const size_t id_begin = at + open.size();
    const std::string id = html.substr(id_begin, html.find('"', id_begin) - id_begin);
    const std::string expected =
        id + "\" aria-labelledby=\"" + id + "-title\">\n<h2 id=\"" + id + "-title\">";
    EXPECT_EQ(html.compare(id_begin, expected.size(), expected), 0) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 12u);
  EXPECT_EQ(count, ids.size()) << "section ids are unique";
  for (const std::string& id : ids) EXPECT_THAT(nav, HasSubstr("href=\"#" + id + "\"")) << id;
  std::set<std::string> links;
  const std::string href = "href=\"#";
  for (size_t at = nav.find(href); at != std::string::npos; at = nav.find(href, at + 1)) {
    const size_t begin = at + href.size();
    links.insert(nav.substr(begin, nav.find('"', begin) - begin));
  }
  EXPECT_EQ(links, ids) << "the contents link to sections only";
}

TEST(RenderHtmlTest, EscapesEveryPolicyString) {
  Policy p = SmallPolicy();
  p.organization.name = "Acme & \"Sons\"";
  p.categories[0].label = "<script>alert('x')</script>";
  p.purposes[0].label = "Service <b>now</b>";
  p.recipients[0].label = "O'Brien & Co <i>";
  p.changes.text = "</p><script>evil()</script>";
  const std::string html = RenderNotice(p, NoticeFormat::kHtml);
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<b>")));
  EXPECT_THAT(html, Not(HasSubstr("<i>")));
  EXPECT_THAT(html, HasSubstr("<th scope=\"row\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
                              "</th>"));
  EXPECT_THAT(html, HasSubstr("<title>Acme &amp; &quot;Sons&quot; privacy notice</title>"));
  EXPECT_THAT(html, HasSubstr("<h3>Service &lt;b&gt;now&lt;/b&gt;</h3>"));
  EXPECT_THAT(html, HasSubstr("<h3>O&#39;Brien &amp; Co &lt;i&gt;</h3>"));
  EXPECT_THAT(html, HasSubstr("<p>&lt;/p&gt;&lt;script&gt;evil()&lt;/script&gt;</p>"));
  EXPECT_EQ(render_internal::EscapeHtml("&<>\"'"), "&amp;&lt;&gt;&quot;&#39;");
}

TEST(RenderHtmlTest, LinksOnlyToSafeUrls) {
  Policy p = SmallPolicy();
  p.organization.website = "javascript:alert(1)";
  p.changes.url = "https://acme.example/a\"onmouseover=\"x";
  const std::string html = RenderNotice(p, NoticeFormat::kHtml);
  EXPECT_THAT(html, Not(HasSubstr("href=\"javascript")));
  EXPECT_THAT(html, HasSubstr("<p>Website: javascript:alert(1)</p>"));  // text, not a link
  EXPECT_THAT(html, HasSubstr("href=\"https://acme.example/a%22onmouseover=%22x\""));
  EXPECT_EQ(render_internal::SafeHref("javascript:alert(1)"), "");
  EXPECT_EQ(render_internal::SafeHref("https://a.example/x y"), "");
  EXPECT_EQ(render_internal::SafeHref("https://a.example/(x)"), "https://a.example/%28x%29");
  EXPECT_EQ(render_internal::SafeHref("mailto:a@b.example"), "mailto:a@b.example");
}

// --- JSON -------------------------------------------------------------------

TEST(RenderJsonTest, NormalizedPolicyWithDefaultsFilledIn) {
  Policy p = SmallPolicy();
  p.categories[2].label = "";  // falls back to the taxonomy label
  const nlohmann::json j = PolicyToJson(p);
  for (const char* key :
       {"version", "effective", "updated", "organization", "categories", "purposes", "recipients",
        "record_kinds", "retention", "rights", "cookies", "security", "changes"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["version"], "2025.1");
  EXPECT_EQ(j["effective"], "2025-01-01");
  EXPECT_TRUE(j["updated"].is_null());
  EXPECT_EQ(j["organization"]["default_region"], "IN");
  EXPECT_EQ(j["organization"]["law"], "DPDP Act 2023 / DPDP Rules 2025");
  ASSERT_EQ(j["categories"].size(), p.categories.size());
  EXPECT_EQ(j["categories"][0]["key"], "user.name");
  EXPECT_EQ(j["categories"][2]["label"], "Email address");
  EXPECT_EQ(j["categories"][1]["parent"], "user.contact");
  EXPECT_EQ(j["categories"][3]["sensitive"], true);
  EXPECT_EQ(j["categories"][5]["source"], "observed");
  EXPECT_EQ(j["purposes"][0]["basis"], "contract");
  EXPECT_FALSE(j["purposes"][0].contains("consent"));
  EXPECT_EQ(j["purposes"][2]["consent"]["default"], "opted_out");
  EXPECT_EQ(j["purposes"][2]["consent"]["opt_out"][0], "sms_stop");
  EXPECT_EQ(j["recipients"][0]["kind"], "processor");

  const nlohmann::json& rights = j["rights"]["offered"];
  EXPECT_EQ(j["rights"]["verification"], "otp");
  EXPECT_EQ(rights[0]["name"], "access");
  EXPECT_EQ(rights[0]["deadline_days"], 90);
  EXPECT_EQ(rights[0]["deadline_source"], "jurisdiction default");
  EXPECT_EQ(rights[0]["verification"], "otp");
  EXPECT_EQ(rights[1]["deadline_days"], 15);
  EXPECT_EQ(rights[1]["deadline_source"], "policy");
  EXPECT_EQ(rights[2]["name"], "grievance");
  EXPECT_EQ(rights[2]["extension_days"], 0);

  // The loader fills defaults in: a deadline equal to the default is the default.
  p.rights[0].deadline_days = 90;
  EXPECT_EQ(PolicyToJson(p)["rights"]["offered"][0]["deadline_source"], "jurisdiction default");
  EXPECT_EQ(j["security"][0]["enforced"], true);
  EXPECT_EQ(j["security"][0]["setting"], "required");
  EXPECT_EQ(j["security"][1]["enforced"], false);
}

TEST(RenderJsonTest, RetentionRulesCarryTheirSentence) {
  Policy p = SmallPolicy();
  RetentionRule r =
      After(Rule({"user.content.self_image"}, {"media"}), "verified", 90, Duration::Unit::kDays);
  r.name = "media";
  p.retention = {Rule({"user.name"}), r};
  const nlohmann::json j = PolicyToJson(p);
  EXPECT_EQ(j["retention"][0]["name"], "retention[0]");
  EXPECT_EQ(j["retention"][0]["while"], "active");
  EXPECT_TRUE(j["retention"][0]["for"].is_null());
  EXPECT_EQ(j["retention"][1]["after"], "verified");
  EXPECT_EQ(j["retention"][1]["for"], "90 days");
  EXPECT_EQ(j["retention"][1]["duration"]["unit"], "days");
  EXPECT_EQ(j["retention"][1]["description"], DescribeRetentionRule(p, r));
}

TEST(RenderJsonTest, RoundTripsAndIsDeterministic) {
  const Policy p = SmallPolicy();
  const std::string text = RenderNotice(p, NoticeFormat::kJson);
  EXPECT_EQ(text, RenderNotice(p, NoticeFormat::kJson));
  EXPECT_EQ(text.back(), '\n');
  EXPECT_THAT(text, HasSubstr("\n  \"categories\": [\n    {\n"));  // 2-space indent
  const nlohmann::json parsed = nlohmann::json::parse(text);
  EXPECT_EQ(parsed, PolicyToJson(p));
  std::set<std::string> keys;
  for (const auto& item : parsed["categories"]) keys.insert(item["key"].get<std::string>());
  for (const Category& c : p.categories) EXPECT_TRUE(keys.contains(c.key)) << c.key;
}

TEST(RenderJsonTest, InvalidUtf8DoesNotThrow) {
  Policy p = SmallPolicy();
  p.categories[0].label = "Na\xffme";
  std::string text;
  EXPECT_NO_THROW(text = RenderNotice(p, NoticeFormat::kJson));
  EXPECT_THAT(text, HasSubstr("Na\xEF\xBF\xBDme"));
}

}  // namespace
}  // namespace custodian::policy

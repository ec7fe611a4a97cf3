// BuildNotice: the notice's sections, in words, from a policy. Everything the
// notice says is a fact of the policy (or of the jurisdiction's defaults); it
// makes no promise the policy does not.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "policy/render.h"
#include "policy/render_internal.h"
#include "policy/taxonomy.h"

namespace custodian::policy::render_internal {
namespace {

// Builds one section's blocks.
class SectionBuilder {
 public:
  explicit SectionBuilder(std::string title) {
    section_.title = std::move(title);
    section_.id = Slug(section_.title);
  }
  SectionBuilder& Paragraph(Inline text) {
    section_.blocks.push_back(Block{Block::Kind::kParagraph, std::move(text), {}, {}});
    return *this;
  }
  SectionBuilder& Paragraph(std::string text) { return Paragraph(Text(std::move(text))); }
  SectionBuilder& Subheading(std::string text) {
    section_.blocks.push_back(Block{Block::Kind::kSubheading, Text(std::move(text)), {}, {}});
    return *this;
  }
  SectionBuilder& List(std::vector<Inline> items) {
    if (!items.empty())
      section_.blocks.push_back(Block{Block::Kind::kList, {}, std::move(items), {}});
    return *this;
  }
  SectionBuilder& AddTable(Table table) {
    section_.blocks.push_back(Block{Block::Kind::kTable, {}, {}, std::move(table)});
    return *this;
  }
  Section Done() { return std::move(section_); }

  // The anchor GitHub gives the heading: lower case, spaces to '-', other
  // punctuation dropped. The HTML uses the same id so links work in both.
  static std::string Slug(const std::string& title) {
    std::string out;
    for (char c : title) {
      if (c >= 'A' && c <= 'Z') {
        out += static_cast<char>(c - 'A' + 'a');
      } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
        out += c;
      } else if (c == ' ') {
        out += '-';
      }
    }
    return out;
  }

 private:
  Section section_;
};

Inline Concat(Inline a, const Inline& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string OrgName(const Policy& policy) {
  const Organization& org = policy.organization;
  if (!org.name.empty()) return org.name;
  if (!org.legal_name.empty()) return org.legal_name;
  return "We";
}

std::vector<Inline> ContactItems(const std::vector<ContactChannel>& contacts) {
  std::vector<Inline> items;
  for (const ContactChannel& c : contacts) {
    items.push_back(
        {Span{Span::Kind::kText, ContactChannelName(c.channel) + ": ", {}}, ContactSpan(c)});
  }
  return items;
}

std::vector<std::string> CategoryLabels(const Policy& policy,
                                        const std::vector<std::string>& keys) {
  std::vector<std::string> labels;
  for (const std::string& key : keys) labels.push_back(CategoryLabel(policy, key));
  return labels;
}

// "user.contact.phone_number" -> "user.contact": the group a category is listed under.
std::string GroupKey(const std::string& key) {
  const size_t first = key.find('.');
  if (first == std::string::npos) return key;
  const size_t second = key.find('.', first + 1);
  return second == std::string::npos ? key : key.substr(0, second);
}

Section WhoWeAreSection(const Policy& policy) {
  const Organization& org = policy.organization;
  const std::string name = OrgName(policy);
  SectionBuilder s("Who we are");
  std::string who = name;
  if (!org.legal_name.empty() && org.legal_name != name) who += " (" + org.legal_name + ")";
  s.Paragraph("This notice explains what personal data " + who +
              " collects, why we use it, who we share it with, how long we keep it and how you "
              "can exercise your rights.");
  if (org.role == "controller") {
    s.Paragraph("We are the controller of your personal data: we decide why and how it is used.");
  } else if (org.role == "processor") {
    s.Paragraph(
        "We act as a processor: we handle personal data on behalf of the organisations that "
        "decide why and how it is used (the controllers).");
  } else if (!org.role.empty()) {
    s.Paragraph("Our role: " + org.role + ".");
  }
  if (!org.role_note.empty()) s.Paragraph(org.role_note);
  if (!org.jurisdiction.empty()) {
    s.Paragraph("We are based in " + CountryName(org.jurisdiction) + ".");
  }
  if (!org.website.empty()) {
    s.Paragraph({Span{Span::Kind::kText, "Website: ", {}},
                 ContactSpan(ContactChannel{"web", org.website, {}})});
  }
  if (org.contacts.empty()) {
    s.Paragraph("This policy lists no contact channels.");
  } else {
    s.Paragraph("Contact us:").List(ContactItems(org.contacts));
  }
  return s.Done();
}

Section WhatWeCollectSection(const Policy& policy) {
  SectionBuilder s("What we collect");
  if (policy.categories.empty()) {
    s.Paragraph("We do not collect personal data.");
    return s.Done();
  }
  bool present[3] = {false, false, false};
  for (const Category& c : policy.categories) present[static_cast<int>(c.source)] = true;
  std::vector<std::string> meanings;
  if (present[0]) meanings.push_back("“provided by you” means you give it to us");
  if (present[1]) {
    meanings.push_back(
        "“recorded automatically” means our systems record it when you use our "
        "services");
  }
  if (present[2]) meanings.push_back("“derived” means we work it out from other data");
  s.Paragraph("We collect the personal data below, grouped by kind. In the table, " +
              JoinWords(meanings) + ".");

  // Rows grouped by taxonomy parent, groups in order of first appearance.
  std::vector<std::string> group_order;
  std::map<std::string, std::vector<const Category*>> groups;
  for (const Category& c : policy.categories) {
    const std::string group = GroupKey(c.key);
    if (!groups.contains(group)) group_order.push_back(group);
    groups[group].push_back(&c);
  }
  Table table{
      "Personal data we collect", {"Data", "Kind of data", "How we get it", "Sensitive"}, {}};
  for (const std::string& group : group_order) {
    const char* group_label = TaxonomyLabel(TaxonomyKind::kDataCategory, group);
    for (const Category* c : groups[group]) {
      Inline data = Text(CategoryLabel(policy, c->key));
      if (!c->description.empty()) data = Concat(data, Text(": " + c->description));
      table.rows.push_back({data, Text(group_label != nullptr ? group_label : group),
                            Text(SourceInWords(c->source)),
                            c->sensitive ? Strong("Yes") : Text("No")});
    }
  }
  s.AddTable(std::move(table));

  if (!policy.record_kinds.empty()) {
    std::vector<Inline> items;
    for (const RecordKind& r : policy.record_kinds) {
      const std::string label = RecordKindLabel(policy, r.id);
      const std::string category = CategoryLabel(policy, r.category);
      items.push_back(Text(category == label || r.category.empty()
                               ? label
                               : label + " (" + LowerFirst(category) + ")"));
    }
    s.Paragraph("We also keep these records about you:").List(std::move(items));
  }
  return s.Done();
}

// "To opt out: ..." items for a consent purpose.
std::vector<Inline> OptOutItems(const Purpose& p) {
  std::vector<Inline> items;
  for (const std::string& channel : p.opt_out) items.push_back(Text(OptOutInWords(channel)));
  return items;
}

Section HowWeUseItSection(const Policy& policy) {
  SectionBuilder s("How we use it");
  if (policy.purposes.empty()) {
    s.Paragraph("We do not use personal data for any purpose.");
    return s.Done();
  }
  s.Paragraph(
      "We use your personal data for the purposes below. For each we say why the law allows it "
      "(its legal basis) and which data it uses.");
  for (const Purpose& p : policy.purposes) {
    s.Subheading(PurposeLabel(policy, p.key));
    if (!p.description.empty()) s.Paragraph(p.description);
    std::vector<Inline> items;
    items.push_back(Text("Legal basis: " +
                         std::string(p.basis ? LegalBasisPlainWords(*p.basis) : "not stated")));
    if (!p.categories.empty()) {
      items.push_back(Text("Data used: " + JoinLabels(CategoryLabels(policy, p.categories))));
    }
    if (!p.roles.empty()) {
      items.push_back(Text("Who at " + OrgName(policy) + " may use it: staff with the " +
                           JoinWords(p.roles, "or") + " role"));
    }
    if (p.basis == LegalBasis::kConsent) {
      items.push_back(
          Text(p.default_granted ? "You are included unless you opt out" : "Only if you opt in"));
      if (!p.opt_out.empty()) {
        std::vector<std::string> ways;
        for (const std::string& channel : p.opt_out) ways.push_back(OptOutInWords(channel));
        items.push_back(Text("To opt out at any time: " + JoinWords(ways, "or")));
      }
    }
    s.List(std::move(items));
  }
  return s.Done();
}

Section WhoWeShareItWithSection(const Policy& policy) {
  SectionBuilder s("Who we share it with");
  if (policy.recipients.empty()) {
    s.Paragraph("We do not share your personal data with other organisations.");
    return s.Done();
  }
  s.Paragraph(
      "We share personal data with the recipients below, for the purposes and the "
      "data listed for each.");
  for (const Recipient& r : policy.recipients) {
    s.Subheading(r.label.empty() ? r.id : r.label);
    if (!r.description.empty()) s.Paragraph(r.description);
    std::vector<Inline> items;
    items.push_back(Text("Who they are: " + RecipientKindInWords(r.kind)));
    if (!r.purposes.empty()) {
      std::vector<std::string> labels;
      for (const std::string& key : r.purposes) labels.push_back(PurposeLabel(policy, key));
      items.push_back(Text("Why: " + JoinLabels(labels)));
    }
    if (!r.categories.empty()) {
      items.push_back(Text("Data shared: " + JoinLabels(CategoryLabels(policy, r.categories))));
    }
    if (!r.country.empty()) items.push_back(Text("Where the data goes: " + CountryName(r.country)));
    s.List(std::move(items));
  }
  return s.Done();
}

Section HowWeProtectItSection(const Policy& policy) {
  SectionBuilder s("How we protect it");
  if (policy.security.empty()) {
    s.Paragraph("This policy states no specific security measures.");
    return s.Done();
  }
  s.Paragraph(
      "Measures marked “Enforced by custodian” are applied automatically by custodian, the "
      "software that manages your personal data; the others are practices we declare.");
  Table table{"Security measures", {"Measure", "Status"}, {}};
  for (const SecurityMeasure& m : policy.security) {
    Inline status = m.enforced.empty() ? Text("Declared practice")
                                       : Concat(Strong("Enforced by custodian"),
                                                Text(" (" + m.id + ": " + m.enforced + ")"));
    table.rows.push_back({Text(m.label.empty() ? m.id : m.label), std::move(status)});
  }
  s.AddTable(std::move(table));
  return s.Done();
}

Section HowLongWeKeepItSection(const Policy& policy) {
  SectionBuilder s("How long we keep it");
  if (policy.retention.empty()) {
    s.Paragraph("This policy sets no retention periods.");
    return s.Done();
  }
  s.Paragraph("We keep your personal data as set out below.");
  std::vector<Inline> items;
  for (const RetentionRule& rule : policy.retention) {
    items.push_back(Text(DescribeRetentionRule(policy, rule)));
  }
  s.List(std::move(items));
  return s.Done();
}

Section YourRightsSection(const Policy& policy) {
  SectionBuilder s("Your rights and how to exercise them");
  if (policy.rights.empty()) {
    s.Paragraph("This policy lists no rights you can exercise through us.");
    return s.Done();
  }
  s.Paragraph("You can ask us to act on the rights below. We reply within the time shown.");
  Table table{"Your rights",
              {"Right", "What you can do", "We reply within", "How we confirm it is you"},
              {}};
  for (const Right& r : policy.rights) {
    std::string what = RightMeaning(r.name);
    auto add = [&what](const std::string& sentence) {
      if (!what.empty()) what += ' ';
      what += sentence;
    };
    if (!r.self_service.empty()) {
      add("You can change " + LowerFirst(JoinLabels(CategoryLabels(policy, r.self_service))) +
          " yourself.");
    }
    if (!r.exceptions.empty()) add("Except: " + JoinWords(r.exceptions) + ".");
    if (!r.how.empty()) add(r.how);
    table.rows.push_back({Text(RightTitle(r.name)), Text(what), Text(DeadlineInWords(policy, r)),
                          Text(VerificationInWords(ResolveVerification(policy, r)))});
  }
  s.AddTable(std::move(table));
  if (!policy.organization.contacts.empty()) {
    s.Paragraph("To exercise any of these rights, contact us:")
        .List(ContactItems(policy.organization.contacts));
  }
  return s.Done();
}

Section MarketingSection(const Policy& policy) {
  SectionBuilder s("Marketing and how to opt out");
  bool any = false;
  for (const Purpose& p : policy.purposes) {
    if (p.basis != LegalBasis::kConsent) continue;
    any = true;
    s.Subheading(PurposeLabel(policy, p.key));
    std::string text =
        p.default_granted ? "We do this unless you opt out." : "We do this only if you opt in.";
    if (!p.channels.empty()) {
      std::vector<std::string> channels;
      for (const std::string& c : p.channels) channels.push_back(MarketingChannelName(c));
      text += " We contact you by " + JoinWords(channels) + ".";
    }
    s.Paragraph(text);
    if (p.opt_out.empty()) {
      s.Paragraph("This policy names no way to opt out; contact us.");
    } else {
      s.Paragraph("To opt out at any time:").List(OptOutItems(p));
    }
  }
  if (!any) s.Paragraph("None of our uses of your personal data is based on your consent.");
  return s.Done();
}

Section CookiesSection(const Policy& policy) {
  SectionBuilder s("Cookies");
  if (policy.cookies.empty()) {
    s.Paragraph("This policy declares no cookies.");
    return s.Done();
  }
  s.Paragraph(
      "Our website uses the cookies below. We ask for your consent before setting the "
      "ones that need it.");
  Table table{"Cookies", {"Cookies", "What they are for", "Your consent"}, {}};
  for (const CookieCategory& c : policy.cookies) {
    std::string what = PurposeLabel(policy, c.purpose);
    if (!c.description.empty()) what += ". " + c.description;
    if (!c.examples.empty()) what += " (for example " + JoinWords(c.examples) + ")";
    table.rows.push_back({Text(c.label.empty() ? c.id : c.label), Text(what),
                          Text(c.consent_required ? "Asked before they are set" : "Not asked")});
  }
  s.AddTable(std::move(table));
  return s.Done();
}

Section GrievanceOfficerSection(const Policy& policy) {
  SectionBuilder s("Grievance officer");
  const GrievanceOfficer& officer = policy.organization.grievance_officer;
  if (officer.name.empty() && officer.title.empty() && officer.contacts.empty()) {
    s.Paragraph(
        "This policy names no grievance officer; please use the contacts under Who we are.");
  } else {
    std::string who = "our grievance officer";
    if (!officer.name.empty()) who += ", " + officer.name;
    if (!officer.title.empty() && AsciiLower(officer.title) != "grievance officer") {
      who += " (" + officer.title + ")";
    }
    s.Paragraph("For privacy concerns or complaints, contact " + who + ".");
    s.List(ContactItems(officer.contacts));
  }
  if (const Right* grievance = policy.FindRight("grievance")) {
    s.Paragraph("We respond to grievances within " + DeadlineInWords(policy, *grievance) + ".");
  }
  return s.Done();
}

Section ChangesSection(const Policy& policy) {
  SectionBuilder s("Changes to this notice");
  const ChangePolicy& changes = policy.changes;
  Inline text;
  if (changes.notice == "opt_in_out") {
    text = Text("When we change how we use your personal data, we ask you to opt in or opt out.");
  } else {
    text = Text("When we change this policy, we post the new version");
    if (changes.url.empty()) {
      text = Concat(text, Text("."));
    } else {
      Span link = ContactSpan(ContactChannel{"web", changes.url, {}});
      text = Concat(text,
                    {Span{Span::Kind::kText, " at ", {}}, link, Span{Span::Kind::kText, ".", {}}});
    }
  }
  s.Paragraph(std::move(text));
  if (changes.notice == "opt_in_out" && !changes.url.empty()) {
    s.Paragraph({Span{Span::Kind::kText, "The current version is at ", {}},
                 ContactSpan(ContactChannel{"web", changes.url, {}}),
                 Span{Span::Kind::kText, ".", {}}});
  }
  if (!changes.text.empty()) s.Paragraph(changes.text);
  s.Paragraph(
      "This notice is generated from the policy itself, so it changes whenever the "
      "policy does.");
  return s.Done();
}

Inline VersionLine(const Policy& policy) {
  Inline line =
      Text("Version " + (policy.version.empty() ? std::string("unnumbered") : policy.version));
  if (policy.effective) {
    line = Concat(line, {Span{Span::Kind::kText, ", effective ", {}},
                         Span{Span::Kind::kTime, HumanDate(*policy.effective),
                              policy.effective->ToString()}});
  }
  if (policy.updated) {
    line = Concat(
        line, {Span{Span::Kind::kText, ", last updated ", {}},
               Span{Span::Kind::kTime, HumanDate(*policy.updated), policy.updated->ToString()}});
  }
  return Concat(line, Text("."));
}

Section VersionSection(const Policy& policy) {
  SectionBuilder s("Version and effective date");
  s.Paragraph(VersionLine(policy));
  return s.Done();
}

}  // namespace

NoticeDocument BuildNotice(const Policy& policy) {
  NoticeDocument doc;
  doc.title = OrgName(policy) + " privacy notice";
  doc.subtitle = VersionLine(policy);
  doc.sections = {WhoWeAreSection(policy),       WhatWeCollectSection(policy),
                  HowWeUseItSection(policy),     WhoWeShareItWithSection(policy),
                  HowWeProtectItSection(policy), HowLongWeKeepItSection(policy),
                  YourRightsSection(policy),     MarketingSection(policy),
                  CookiesSection(policy),        GrievanceOfficerSection(policy),
                  ChangesSection(policy),        VersionSection(policy)};
  doc.footer = Text(
      "This notice is rendered by custodian from the same policy that custodian "
      "enforces.");
  return doc;
}

}  // namespace custodian::policy::render_internal

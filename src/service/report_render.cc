#include "service/report_render.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "policy/render.h"

namespace custodian::service {
namespace {

using nlohmann::json;

// A report as a document: a title, facts, and sections of facts and tables.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};
struct Section {
  std::string heading;
  std::vector<std::string> facts;
  Table table;
  std::string empty = "none";  // shown when the table has no row
};
struct Doc {
  std::string title;
  std::vector<std::string> facts;
  std::vector<Section> sections;
};

std::string Text(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const json& x : v) out += (out.empty() ? "" : ", ") + Text(x);
    return out.empty() ? "-" : out;
  }
  if (v.is_number_float()) {
    std::string s = v.dump();
    return s;
  }
  return v.dump();
}

std::string Get(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? "-" : Text(*it);
}

Table Rows(const json& items, const std::vector<std::pair<std::string, const char*>>& columns) {
  Table t;
  for (const auto& [title, key] : columns) t.header.push_back(title);
  for (const json& item : items) {
    std::vector<std::string> row;
    for (const auto& [title, key] : columns) row.push_back(Get(item, key));
    t.rows.push_back(std::move(row));
  }
  return t;
}

void Common(const json& r, Doc& d) {
  d.facts.push_back("Organization: " + Get(r, "organization") + " (tenant " + Get(r, "tenant") +
                    ", policy version " + Get(r, "policy_version") + ")");
  d.facts.push_back("Period: " + Get(r.at("period"), "from") + " to " + Get(r.at("period"), "to"));
  d.facts.push_back("Generated: " + Get(r, "generated_at"));
}

Doc Processing(const json& r) {
  Doc d;
  d.title = "Record of processing activities";
  Common(r, d);
  const json& totals = r.at("totals");
  d.facts.push_back("Subjects held: " + Get(totals, "subjects") + "; records in the period: " +
                    Get(totals, "records") + "; disclosures: " + Get(totals, "disclosures") +
                    "; requests received: " + Get(totals, "requests"));
  for (const json& p : r.at("purposes")) {
    Section s;
    s.heading = Get(p, "label") + " (" + Get(p, "purpose") + ")";
    s.facts.push_back("Legal basis: " + Get(p, "basis"));
    s.facts.push_back("Categories: " + Get(p, "categories"));
    if (!p.at("record_kinds").empty()) s.facts.push_back("Record kinds: " + Get(p, "record_kinds"));
    s.facts.push_back("Roles: " + Get(p, "roles"));
    for (const json& rule : p.at("retention")) s.facts.push_back("Retention: " + Get(rule, "text"));
    const json& c = p.at("counts");
    s.facts.push_back("In the period: " + Get(c, "subjects") + " subjects held, " +
                      Get(c, "records") + " records, " + Get(c, "disclosures") +
                      " disclosures covering " + Get(c, "subjects_disclosed") + " subjects");
    s.table = Rows(p.at("recipients"), {{"Recipient", "recipient"},
                                     {"Kind", "kind"},
                                     {"Country", "country"},
                                     {"Categories", "categories"}});
    s.empty = "No recipient.";
    d.sections.push_back(std::move(s));
  }
  Section req;
  req.heading = "Requests received in the period";
  for (const auto& [type, n] : r.at("requests").at("by_type").items()) {
    req.table.rows.push_back({type, Text(n)});
  }
  req.table.header = {"Type", "Received"};
  d.sections.push_back(std::move(req));
  return d;
}

Doc Requests(const json& r) {
  Doc d;
  d.title = "Data-subject requests";
  Common(r, d);
  const json& t = r.at("totals");
  d.facts.push_back("Received: " + Get(t, "received") + "; completed: " + Get(t, "completed") +
                    "; open: " + Get(t, "open") + "; overdue: " + Get(t, "overdue"));
  d.facts.push_back("Days to complete: median " + Get(t, "median_days_to_complete") +
                    ", worst " + Get(t, "worst_days_to_complete"));
  Section by;
  by.heading = "By type";
  by.table = Rows(r.at("by_type"), {{"Type", "type"},
                                 {"Received", "received"},
                                 {"Completed", "completed"},
                                 {"Rejected", "rejected"},
                                 {"Expired", "expired"},
                                 {"Open", "open"},
                                 {"Overdue", "overdue"},
                                 {"Median days", "median_days_to_complete"},
                                 {"Worst days", "worst_days_to_complete"}});
  d.sections.push_back(std::move(by));
  Section late;
  late.heading = "Overdue";
  late.table = Rows(r.at("overdue"), {{"Request", "id"},
                                   {"Type", "type"},
                                   {"State", "state"},
                                   {"Received", "received_at"},
                                   {"Due", "due_at"},
                                   {"Closed", "closed_at"},
                                   {"Days late", "days_late"}});
  late.empty = "No request was late.";
  d.sections.push_back(std::move(late));
  return d;
}

Doc Access(const json& r) {
  Doc d;
  d.title = "Access to personal data";
  Common(r, d);
  const json& t = r.at("totals");
  d.facts.push_back("Audit events: " + Get(t, "events") + "; reads: " + Get(t, "reads") +
                    "; refusals: " + Get(t, "refusals") + "; lookups that matched nobody: " +
                    Get(t, "lookup_misses"));
  const std::vector<std::pair<std::string, const char*>> tally = {
      {"Reads", "reads"}, {"Distinct subjects", "subjects"}, {"Refusals", "refusals"}};
  const auto with = [&](std::string title, const char* key) {
    std::vector<std::pair<std::string, const char*>> cols = {{std::move(title), key}};
    cols.insert(cols.end(), tally.begin(), tally.end());
    return cols;
  };
  Section out;
  out.heading = "Unusual volumes";
  out.facts.push_back("Rule: " + Get(r, "outlier_rule") + ".");
  out.table = Rows(r.at("outliers"), {{"Actor", "actor"},
                                   {"Role", "role"},
                                   {"Distinct subjects", "subjects"},
                                   {"Peers", "peers"},
                                   {"Peer median", "peer_median"}});
  out.empty = "No actor read unusually many subjects.";
  Section roles{"By role", {}, Rows(r.at("by_role"), with("Role", "role"))};
  Section purposes{"By purpose", {}, Rows(r.at("by_purpose"), with("Purpose", "purpose"))};
  auto actor_cols = with("Actor", "actor");
  actor_cols.insert(actor_cols.begin() + 1, {"Role", "role"});
  Section actors{"By actor", {}, Rows(r.at("by_actor"), actor_cols)};
  Section refused{"Refusals by action", {},
                  Rows(r.at("refusals_by_action"), {{"Action", "action"}, {"Refusals", "refusals"}})};
  d.sections = {std::move(out), std::move(roles), std::move(purposes), std::move(actors),
                std::move(refused)};
  return d;
}

std::string EscapeMd(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\r') {
      out += ' ';
      continue;
    }
    if (std::string_view("\\`*_[]<>|~").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string Markdown(const Doc& d) {
  std::string out = "# " + EscapeMd(d.title) + "\n\n";
  for (const std::string& f : d.facts) out += "- " + EscapeMd(f) + "\n";
  for (const Section& s : d.sections) {
    out += "\n## " + EscapeMd(s.heading) + "\n\n";
    for (const std::string& f : s.facts) out += "- " + EscapeMd(f) + "\n";
    if (!s.facts.empty()) out += "\n";
    if (s.table.rows.empty()) {
      out += EscapeMd(s.empty) + "\n";
      continue;
    }
    out += "|";
    for (const std::string& h : s.table.header) out += " " + EscapeMd(h) + " |";
    out += "\n|";
    for (std::size_t i = 0; i < s.table.header.size(); ++i) out += "---|";
    out += "\n";
    for (const auto& row : s.table.rows) {
      out += "|";
      for (const std::string& cell : row) out += " " + EscapeMd(cell) + " |";
      out += "\n";
    }
  }
  return out;
}

std::string Html(const Doc& d) {
  using policy::EscapeHtml;
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
      EscapeHtml(d.title) +
      "</title>\n<style>body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}"
      "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3em .6em;"
      "text-align:left}</style>\n</head>\n<body>\n<h1>" +
      EscapeHtml(d.title) + "</h1>\n<ul>\n";
  for (const std::string& f : d.facts) out += "<li>" + EscapeHtml(f) + "</li>\n";
  out += "</ul>\n";
  for (const Section& s : d.sections) {
    out += "<h2>" + EscapeHtml(s.heading) + "</h2>\n";
    if (!s.facts.empty()) {
      out += "<ul>\n";
      for (const std::string& f : s.facts) out += "<li>" + EscapeHtml(f) + "</li>\n";
      out += "</ul>\n";
    }
    if (s.table.rows.empty()) {
      out += "<p>" + EscapeHtml(s.empty) + "</p>\n";
      continue;
    }
    out += "<table>\n<tr>";
    for (const std::string& h : s.table.header) out += "<th>" + EscapeHtml(h) + "</th>";
    out += "</tr>\n";
    for (const auto& row : s.table.rows) {
      out += "<tr>";
      for (const std::string& cell : row) out += "<td>" + EscapeHtml(cell) + "</td>";
      out += "</tr>\n";
    }
    out += "</table>\n";
  }
  return out + "</body>\n</html>\n";
}

}  // namespace

Result<std::string> RenderReport(std::string_view report_json, std::string_view format) {
  if (format == "json") return std::string(report_json);
  if (format != "markdown" && format != "html") {
    return Status::InvalidArgument("unknown format '" + std::string(format) +
                                   "'; use json, markdown or html");
  }
  json r = json::parse(report_json, nullptr, false);
  if (!r.is_object() || !r.contains("report")) {
    return Status::InvalidArgument("not a custodian report");
  }
  const std::string kind = r.value("report", "");
  Doc d;
  try {
    if (kind == "processing") {
      d = Processing(r);
    } else if (kind == "requests") {
      d = Requests(r);
    } else if (kind == "access") {
      d = Access(r);
    } else {
      return Status::InvalidArgument("unknown report '" + kind + "'");
    }
  } catch (const json::exception&) {
    return Status::InvalidArgument("the " + kind + " report is malformed");
  }
  return format == "html" ? Html(d) : Markdown(d);
}

}  // namespace custodian::service

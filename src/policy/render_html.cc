// The notice as one self-contained, accessible HTML page: inline CSS only, no
// scripts and no external resources; landmarks (header, nav, main, footer), a
// table of contents linking to each <section>, captioned tables with scoped
// headers. Every piece of policy text is escaped.

#include <string>

#include "policy/render_internal.h"

namespace custodian::policy::render_internal {
namespace {

constexpr char kStyle[] = R"css(
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #fff; --muted: #555; --rule: #d0d0d0;
  --accent: #0b57d0; --mark: #fdf1d3; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8e8e8; --bg: #151515; --muted: #b0b0b0; --rule: #444; --accent: #8ab4f8;
    --mark: #4a3b12; }
}
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg);
  font: 1rem/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, nav, main, footer { max-width: 50rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 2rem; }
h1 { font-size: 2rem; line-height: 1.2; margin: 0 0 .5rem; }
h2 { font-size: 1.4rem; margin: 2.5rem 0 .75rem; padding-bottom: .25rem;
  border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
nav h2 { border: 0; margin-top: 1.5rem; }
nav ol { columns: 2 16rem; padding-left: 1.5rem; }
a { color: var(--accent); }
a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.version, footer { color: var(--muted); }
footer { margin: 3rem auto 2rem; border-top: 1px solid var(--rule); font-size: .9rem; }
table { width: 100%; border-collapse: collapse; margin: 1rem 0; }
caption { text-align: left; font-weight: 600; padding-bottom: .5rem; }
th, td { text-align: left; vertical-align: top; padding: .5rem; border-bottom: 1px solid var(--rule);
  overflow-wrap: anywhere; }
thead th { border-bottom: 2px solid var(--fg); }
td strong { background: var(--mark); padding: 0 .2rem; }
.skip-link { position: absolute; left: -999rem; }
.skip-link:focus { left: 1rem; top: 1rem; background: var(--bg); padding: .5rem; }
@media print { .skip-link, nav { display: none; } a { color: inherit; } }
)css";

std::string InlineHtml(const Inline& spans) {
  std::string out;
  for (const Span& span : spans) {
    switch (span.kind) {
      case Span::Kind::kText:
        out += EscapeHtml(span.text);
        break;
      case Span::Kind::kStrong:
        out += "<strong>" + EscapeHtml(span.text) + "</strong>";
        break;
      case Span::Kind::kLink:
        out += "<a href=\"" + EscapeHtml(span.target) + "\">" + EscapeHtml(span.text) + "</a>";
        break;
      case Span::Kind::kTime:
        out += "<time datetime=\"" + EscapeHtml(span.target) + "\">" + EscapeHtml(span.text) +
               "</time>";
        break;
    }
  }
  return out;
}

void WriteTable(const Table& table, std::string& out) {
  out += "<table>\n<caption>" + EscapeHtml(table.caption) + "</caption>\n<thead><tr>";
  for (const std::string& header : table.headers) {
    out += "<th scope=\"col\">" + EscapeHtml(header) + "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (size_t i = 0; i < row.size(); ++i) {
      out += i == 0 ? "<th scope=\"row\">" : "<td>";
      out += InlineHtml(row[i]);
      out += i == 0 ? "</th>" : "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
}

void WriteBlock(const Block& block, std::string& out) {
  switch (block.kind) {
    case Block::Kind::kParagraph:
      out += "<p>" + InlineHtml(block.text) + "</p>\n";
      break;
    case Block::Kind::kSubheading:
      out += "<h3>" + InlineHtml(block.text) + "</h3>\n";
      break;
    case Block::Kind::kList:
      out += "<ul>\n";
      for (const Inline& item : block.items) out += "<li>" + InlineHtml(item) + "</li>\n";
      out += "</ul>\n";
      break;
    case Block::Kind::kTable:
      WriteTable(block.table, out);
      break;
  }
}

}  // namespace


std::string WriteHtml(const NoticeDocument& doc) {
  std::string out =
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + EscapeHtml(doc.title) + "</title>\n";
  out += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  out += "<a class=\"skip-link\" href=\"#main\">Skip to the notice</a>\n";
  out += "<header>\n<h1>" + EscapeHtml(doc.title) + "</h1>\n<p class=\"version\">" +
         InlineHtml(doc.subtitle) + "</p>\n</header>\n";
  out += "<nav aria-label=\"Contents\">\n<h2>Contents</h2>\n<ol>\n";
  for (const Section& section : doc.sections) {
    out += "<li><a href=\"#" + EscapeHtml(section.id) + "\">" + EscapeHtml(section.title) +
           "</a></li>\n";
  }
  out += "</ol>\n</nav>\n<main id=\"main\">\n";
  for (const Section& section : doc.sections) {
    const std::string id = EscapeHtml(section.id);
    out += "<section id=\"" + id + "\" aria-labelledby=\"" + id + "-title\">\n<h2 id=\"" + id +
           "-title\">" + EscapeHtml(section.title) + "</h2>\n";
    for (const Block& block : section.blocks) WriteBlock(block, out);
    out += "</section>\n";
  }
  out += "</main>\n<footer>\n<p>" + InlineHtml(doc.footer) + "</p>\n</footer>\n</body>\n</html>\n";
  return out;
}

}  // namespace custodian::policy::render_internal

namespace custodian::policy {

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace custodian::policy

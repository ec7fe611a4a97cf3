// The notice as GitHub-flavoured markdown: `#`/`##`/`###` headings, a table of
// contents linking to each section's GitHub anchor, lists and pipe tables.
// Every piece of policy text is escaped, so no label can inject markup.

#include <cctype>
#include <string>

#include "policy/render_internal.h"

namespace custodian::policy::render_internal {
namespace {

// An "&name;" or "&#123;" that markdown would read as a character reference.
bool LooksLikeEntity(std::string_view text, size_t amp) {
  size_t i = amp + 1;
  if (i < text.size() && text[i] == '#') ++i;
  const size_t start = i;
  while (i < text.size() && std::isalnum(static_cast<unsigned char>(text[i]))) ++i;
  return i > start && i < text.size() && text[i] == ';';
}

std::string InlineMarkdown(const Inline& spans) {
  std::string out;
  for (const Span& span : spans) {
    switch (span.kind) {
      case Span::Kind::kText:
      case Span::Kind::kTime:
        out += EscapeMarkdown(span.text);
        break;
      case Span::Kind::kStrong:
        out += "**" + EscapeMarkdown(span.text) + "**";
        break;
      case Span::Kind::kLink:
        // The href went through SafeHref: no spaces, parentheses or quotes.
        out += "[" + EscapeMarkdown(span.text) + "](" + span.target + ")";
        break;
    }
  }
  return out;
}

// Keeps text at the start of a line from reading as a heading, list or rule.
std::string EscapeLineStart(std::string line) {
  if (line.empty()) return line;
  const char first = line[0];
  if (first == '#' || first == '+' || first == '-' || first == '=') return "\\" + line;
  size_t digits = 0;
  while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) ++digits;
  if (digits > 0 && digits < line.size() && (line[digits] == '.' || line[digits] == ')')) {
    line.insert(digits, "\\");
  }
  return line;
}

void WriteTable(const Table& table, std::string& out) {
  out += "|";
  for (const std::string& header : table.headers) out += " " + EscapeMarkdown(header) + " |";
  out += "\n|";
  for (size_t i = 0; i < table.headers.size(); ++i) out += " --- |";
  out += "\n";
  for (const auto& row : table.rows) {
    out += "|";
    for (const Inline& cell : row) out += " " + InlineMarkdown(cell) + " |";
    out += "\n";
  }
}

}  // namespace

std::string EscapeMarkdown(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '<':
      case '>':
      case '|':
      case '~':
        out += '\\';
        out += c;
        break;
      case '&':
        if (LooksLikeEntity(text, i)) out += '\\';
        out += c;
        break;
      case '\n':
      case '\r':
      case '\t':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string WriteMarkdown(const NoticeDocument& doc) {
  std::string out = "# " + EscapeMarkdown(doc.title) + "\n\n";
  out += EscapeLineStart(InlineMarkdown(doc.subtitle)) + "\n\n";
  out += "## Contents\n\n";
  for (size_t i = 0; i < doc.sections.size(); ++i) {
    const Section& section = doc.sections[i];
    out +=
        std::to_string(i + 1) + ". [" + EscapeMarkdown(section.title) + "](#" + section.id + ")\n";
  }
  for (const Section& section : doc.sections) {
    out += "\n## " + EscapeMarkdown(section.title) + "\n";
    for (const Block& block : section.blocks) {
      out += "\n";
      switch (block.kind) {
        case Block::Kind::kParagraph:
          out += EscapeLineStart(InlineMarkdown(block.text)) + "\n";
          break;
        case Block::Kind::kSubheading:
          out += "### " + InlineMarkdown(block.text) + "\n";
          break;
        case Block::Kind::kList:
          for (const Inline& item : block.items) {
            out += "- " + EscapeLineStart(InlineMarkdown(item)) + "\n";
          }
          break;
        case Block::Kind::kTable:
          WriteTable(block.table, out);
          break;
      }
    }
  }
  out += "\n---\n\n_" + InlineMarkdown(doc.footer) + "_\n";
  return out;
}

}  // namespace custodian::policy::render_internal

#include "policy/loader.h"

#include <fmt/format.h>
#include <utf8proc.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "policy/diagnostics.h"
#include "policy/parser.h"
#include "policy/validator.h"
#include "policy/yaml_reader.h"

namespace custodian::policy {
namespace {

// A policy is a few hundred lines; anything this large is a mistake.
constexpr std::size_t kMaxPolicyBytes = 4 * 1024 * 1024;
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

LoadResult OnlyError(const std::string& name, SourcePos pos, std::string message) {
  internal::DiagnosticSink sink(name);
  sink.Error(pos, std::move(message));
  return LoadResult{std::nullopt, sink.Take()};
}

// The first byte that is not UTF-8, or a control character YAML does not
// allow; empty when the text is clean.
std::optional<std::pair<std::size_t, std::string>> FindBadText(std::string_view text) {
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  std::size_t i = 0;
  while (i < text.size()) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n =
        utf8proc_iterate(bytes + i, static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
    if (n <= 0) {
      return std::make_pair(
          i, fmt::format("the file is not valid UTF-8: byte 0x{:02X} does not belong here; save "
                         "the file as UTF-8",
                         bytes[i]));
    }
    bool control = (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F;
    if (control) {
      return std::make_pair(
          i,
          fmt::format("control character U+{:04X} is not allowed in a YAML file; remove it", cp));
    }
    i += static_cast<std::size_t>(n);
  }
  return std::nullopt;
}

// yaml-cpp's message, with a hint for the most common cause it does not name.
std::string SyntaxMessage(const YAML::ParserException& e, const internal::TextPositions& lines,
                          int line) {
  std::string message = fmt::format("invalid YAML: {}", e.msg);
  for (int l = std::max(1, line - 1); l <= line; ++l) {
    std::string_view text = lines.Line(l);
    std::size_t indent = text.find_first_not_of(" \t");
    if (text.substr(0, indent).find('\t') != std::string_view::npos) {
      return fmt::format("{} (line {} is indented with a tab; YAML indents with spaces only)",
                         message, l);
    }
  }
  if (e.msg == YAML::ErrorMsg::MAP_VALUE) {
    return message + " (is the indentation right? Text that contains ': ' must be in quotes)";
  }
  if (e.msg == YAML::ErrorMsg::END_OF_SEQ_FLOW) {
    return message + " (a list opened with '[' is not closed with ']')";
  }
  if (e.msg == YAML::ErrorMsg::END_OF_MAP_FLOW) {
    return message + " (a mapping opened with '{' is not closed with '}')";
  }
  return message;
}

}  // namespace

LoadResult LoadPolicyString(std::string_view text, const std::string& name) {
  if (text.size() > kMaxPolicyBytes) {
    return OnlyError(name, {},
                     fmt::format("the file is {} bytes, larger than the {} bytes a policy "
                                 "may have",
                                 text.size(), kMaxPolicyBytes));
  }
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
  internal::TextPositions lines(text);
  if (auto bad = FindBadText(text)) return OnlyError(name, lines.AtOffset(bad->first), bad->second);

  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::DeepRecursion& e) {
    return OnlyError(name, lines.At(e.mark),
                     "invalid YAML: the document nests too deeply; a policy needs only a few "
                     "levels");
  } catch (const YAML::ParserException& e) {
    SourcePos pos = lines.At(e.mark);
    return OnlyError(name, pos.line > 0 ? pos : SourcePos{1, 1}, SyntaxMessage(e, lines, pos.line));
  } catch (const std::exception& e) {
    return OnlyError(name, {1, 1}, fmt::format("invalid YAML: {}", e.what()));
  }
  if (documents.empty() || documents[0].IsNull()) {
    return OnlyError(name, {1, 1},
                     "the file is empty; expected a policy document with at least version, "
                     "effective, organization, categories, purposes and retention");
  }
  if (documents.size() > 1) {
    return OnlyError(name, lines.At(documents[1].Mark()),
                     fmt::format("the file holds {} YAML documents (separated by '---'); a policy "
                                 "file holds exactly one",
                                 documents.size()));
  }

  internal::DiagnosticSink sink(name);
  internal::YamlReader reader(lines, sink);
  Policy policy;
  policy.file = name;
  SourceInfo sources;
  try {
    internal::PolicyParser(reader, policy, sources).Parse(documents[0]);
  } catch (const std::exception& e) {
    // Reading a loaded document does not throw; this is a safety net, not a path.
    sink.Error({1, 1}, fmt::format("internal error while reading the policy: {}", e.what()));
  }
  for (Diagnostic& d : ValidatePolicy(policy, sources)) {
    SourcePos pos{d.line, d.column};
    if (d.severity == Diagnostic::Severity::kError) {
      sink.Error(pos, std::move(d.message));
    } else {
      sink.Warning(pos, std::move(d.message));
    }
  }
  bool ok = sink.error_count() == 0;
  LoadResult result{std::nullopt, sink.Take()};
  if (ok) result.policy = std::move(policy);
  return result;
}

LoadResult LoadPolicyFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return OnlyError(path, {}, "cannot read the policy: it is a directory, not a file");
  }
  std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxPolicyBytes) {
    return OnlyError(path, {},
                     fmt::format("the file is {} bytes, larger than the {} bytes a "
                                 "policy may have",
                                 size, kMaxPolicyBytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return OnlyError(path, {}, fmt::format("cannot read the policy: {}", std::strerror(errno)));
  }
  // Bounded read: the size check above does not apply to pipes and devices.
  std::string text;
  char buffer[64 * 1024];
  while (text.size() <= kMaxPolicyBytes && in.read(buffer, sizeof buffer).gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) {
    return OnlyError(path, {}, fmt::format("cannot read the policy: {}", std::strerror(errno)));
  }
  if (text.size() > kMaxPolicyBytes) {
    return OnlyError(
        path, {},
        fmt::format("the file is larger than the {} bytes a policy may have", kMaxPolicyBytes));
  }
  return LoadPolicyString(text, path);
}

}  // namespace custodian::policy

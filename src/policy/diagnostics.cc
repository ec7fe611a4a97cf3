#include "policy/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>

namespace custodian::policy {

std::string Diagnostic::ToString() const {
  const char* kind = severity == Severity::kError ? "error" : "warning";
  if (line <= 0) return fmt::format("{}: {}: {}", file, kind, message);
  return fmt::format("{}:{}:{}: {}: {}", file, line, column, kind, message);
}

int LoadResult::error_count() const {
  return static_cast<int>(std::count_if(diagnostics.begin(), diagnostics.end(), [](const auto& d) {
    return d.severity == Diagnostic::Severity::kError;
  }));
}

int LoadResult::warning_count() const {
  return static_cast<int>(diagnostics.size()) - error_count();
}

namespace internal {

void DiagnosticSink::Error(SourcePos pos, std::string message) {
  ++errors_;
  Add(Diagnostic::Severity::kError, pos, std::move(message));
}

void DiagnosticSink::Warning(SourcePos pos, std::string message) {
  Add(Diagnostic::Severity::kWarning, pos, std::move(message));
}

void DiagnosticSink::Add(Diagnostic::Severity severity, SourcePos pos, std::string message) {
  if (diagnostics_.size() >= kMaxDiagnostics) {
    ++dropped_;
    return;
  }
  Diagnostic d;
  d.severity = severity;
  d.file = file_;
  d.line = pos.line;
  d.column = pos.line > 0 ? std::max(pos.column, 1) : 0;
  d.message = std::move(message);
  diagnostics_.push_back(std::move(d));
}

std::vector<Diagnostic> DiagnosticSink::Take() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     if (a.line != b.line) return a.line < b.line;
                     return a.column < b.column;
                   });
  if (dropped_ > 0) {
    Diagnostic more;
    more.file = file_;
    more.message = fmt::format("{} more problems not shown; fix the ones above first", dropped_);
    diagnostics_.push_back(std::move(more));
  }
  errors_ = 0;
  dropped_ = 0;
  std::vector<Diagnostic> out;
  out.swap(diagnostics_);
  return out;
}

}  // namespace internal
}  // namespace custodian::policy

// Collecting load diagnostics (internal to the policy layer).
//
// A DiagnosticSink gathers the errors and warnings of one load; Take() hands
// them back sorted by position. Not thread-safe: one sink per load.
#pragma once

#include <string>
#include <vector>

#include "policy/loader.h"
#include "policy/model.h"

namespace custodian::policy::internal {

class DiagnosticSink {
 public:
  explicit DiagnosticSink(std::string file) : file_(std::move(file)) {}

  void Error(SourcePos pos, std::string message);
  void Warning(SourcePos pos, std::string message);
  int error_count() const { return errors_; }
  const std::string& file() const { return file_; }

  // All diagnostics so far, stably sorted by line then column; empties the
  // sink. Past kMaxDiagnostics (a pathological file), the rest are counted,
  // not kept, and a last file-level error says how many were left out.
  std::vector<Diagnostic> Take();

  static constexpr std::size_t kMaxDiagnostics = 1000;

 private:
  void Add(Diagnostic::Severity severity, SourcePos pos, std::string message);

  std::string file_;
  std::vector<Diagnostic> diagnostics_;
  int errors_ = 0;
  std::size_t dropped_ = 0;
};

}  // namespace custodian::policy::internal

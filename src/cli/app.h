// The custodian command line: argv -> one service call -> text or --json.
// Exit codes: 0 ok, 1 error, 2 usage, 3 partial (some input rows rejected).
#pragma once

namespace custodian::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitPartial = 3;

int Main(int argc, char** argv);

}  // namespace custodian::cli

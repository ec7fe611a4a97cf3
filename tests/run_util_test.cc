// The child-process helper the whole-system tests stand on.
#include "run_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

namespace custodian::testing_util {
namespace {

using testing::HasSubstr;
using testing::Not;

TEST(RunUtilTest, SeparatesStdoutStderrAndTheExitCode) {
  RunResult r = RunProgram("/bin/sh", {"-c", "printf out; printf err >&2; exit 7"});
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_EQ(r.out, "out");
  EXPECT_EQ(r.err, "err");
  EXPECT_FALSE(r.signaled);
}

TEST(RunUtilTest, ArgumentsArePassedVerbatim) {
  RunResult r = RunProgram("/usr/bin/printf", {"[%s]", "a b", "$(echo no)", "'q'", "*", ""});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "[a b][$(echo no)]['q'][*][]");
}

TEST(RunUtilTest, LargeOutputOnBothStreamsDoesNotDeadlock) {
  RunResult r =
      RunProgram("/bin/sh", {"-c", "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), 1000000u);
  EXPECT_EQ(r.err.size(), 1000000u);
}

TEST(RunUtilTest, TheCustodianVariablesAreNotInheritedUnlessSet) {
  ASSERT_EQ(setenv("CUSTODIAN_DATA_DIR", "/from/the/developer", 1), 0);
  ASSERT_EQ(setenv("CUSTODIAN_MASTER_KEY", "developer-key", 1), 0);
  RunResult plain = RunProgram("/usr/bin/env", {});
  RunOptions o;
  o.env = {{"CUSTODIAN_DATA_DIR", "/a"}, {"CUSTODIAN_DATA_DIR", "/b"}, {"HOME", std::nullopt}};
  RunResult set = RunProgram("/usr/bin/env", {}, o);
  unsetenv("CUSTODIAN_DATA_DIR");
  unsetenv("CUSTODIAN_MASTER_KEY");
  EXPECT_THAT(plain.out, Not(HasSubstr("CUSTODIAN_")));
  EXPECT_THAT(plain.out, HasSubstr("PATH="));
  EXPECT_THAT(set.out, HasSubstr("\nCUSTODIAN_DATA_DIR=/b\n"));
  EXPECT_THAT(set.out, Not(HasSubstr("CUSTODIAN_DATA_DIR=/a")));
  EXPECT_THAT(set.out, Not(HasSubstr("CUSTODIAN_MASTER_KEY")));
  EXPECT_THAT(set.out, Not(HasSubstr("\nHOME=")));
}

TEST(RunUtilTest, WorkingDirectory) {
  RunOptions o;
  o.cwd = "/";
  RunResult r = RunProgram("/bin/pwd", {}, o);
  EXPECT_EQ(r.out, "/\n");
}

TEST(RunUtilTest, ATimeoutKillsTheChild) {
  RunOptions o;
  o.timeout = std::chrono::milliseconds(200);
  RunResult r = RunProgram("/bin/sleep", {"30"}, o);
  EXPECT_TRUE(r.timed_out);
  EXPECT_TRUE(r.signaled);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
}

TEST(RunUtilTest, AMissingProgramIsReported) {
  RunResult r = RunProgram("/no/such/program", {});
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_THAT(r.err, HasSubstr("/no/such/program"));
}

}  // namespace
}  // namespace custodian::testing_util

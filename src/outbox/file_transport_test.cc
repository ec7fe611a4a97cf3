// The file transport of `custodian demo`: every channel appended to one file
// (0600), one entry each, nothing sent; an unwritable path is a permanent
// failure.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "outbox/transport.h"
#include "test_util.h"

namespace custodian::outbox {
namespace {

TEST(FileTransport, AppendsEveryMessageToItsFile) {
  testing_util::TempDir dir;
  const std::string path = (dir.path() / "outbox.txt").string();
  auto transport = NewFileTransport(path);
  auto sms = transport->Send({"msg_1", Channel::kSms, "+919845010001", "", "your code is 042917", {}});
  ASSERT_TRUE(sms.ok()) << sms.status().ToString();
  EXPECT_EQ(sms->provider_id, "file:msg_1");
  ASSERT_TRUE(transport
                  ->Send({"msg_2", Channel::kEmail, "asha@example.in", "Your export",
                          "It is ready.", {{"List-Unsubscribe", "<https://x>"}}})
                  .ok());
  const std::string text = testing_util::ReadFile(path);
  EXPECT_NE(text.find("  sms to +919845010001  (msg_1)\nyour code is 042917\n\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  email to asha@example.in  (msg_2)\nSubject: Your export\nIt is ready.\n\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.rfind("--- ", 0), 0u);
  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto nowhere = NewFileTransport((dir.path() / "missing" / "outbox.txt").string());
  auto failed = nowhere->Send({"msg_3", Channel::kSms, "+919845010001", "", "x", {}});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(failed.status().message().find("+91"), std::string::npos);
}

}  // namespace
}  // namespace custodian::outbox

#include "http/problem.h"

#include <gtest/gtest.h>

namespace custodian::http {
namespace {

TEST(ProblemTest, BuildsAnRfc9457Object) {
  Response r = Problem(422, "invalid-field", "Unprocessable Content", "phone: not a number",
                       "/fields/0/value");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.content_type, "application/problem+json");
  EXPECT_TRUE(r.add_request_id);
  EXPECT_EQ(r.body,
            R"({"type":"urn:custodian:problem:invalid-field","title":"Unprocessable Content",)"
            R"("status":422,"detail":"phone: not a number","pointer":"/fields/0/value"})");
  EXPECT_EQ(Problem(404, "not-found", "Not Found", "x").body,
            R"({"type":"urn:custodian:problem:not-found","title":"Not Found","status":404,)"
            R"("detail":"x"})");
}

TEST(ProblemTest, FromStatusMapsCodesAndHidesInternalMessages) {
  Response r = ProblemFromStatus(Status::NotFound("subject 'sub_1' does not exist"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body,
            R"({"type":"urn:custodian:problem:not-found","title":"Not Found","status":404,)"
            R"("detail":"subject 'sub_1' does not exist"})");
  r = ProblemFromStatus(Status::Internal("sqlite: disk I/O error at /var/lib/x"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("sqlite"), std::string::npos);
  EXPECT_EQ(ProblemFromStatus(Status::Unauthenticated("x")).status, 401);
  EXPECT_EQ(ProblemFromStatus(Status::PermissionDenied("x")).status, 403);
  EXPECT_EQ(ProblemFromStatus(Status::AlreadyExists("x")).status, 409);
  EXPECT_EQ(ProblemFromStatus(Status::Unavailable("x")).status, 503);
  EXPECT_EQ(ProblemFromStatus(Status::InvalidArgument("x")).status, 400);
}

}  // namespace
}  // namespace custodian::http

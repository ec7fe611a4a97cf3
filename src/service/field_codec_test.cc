// The frame of a subject's sealed fields (service/field_codec.h): what is
// encoded decodes the same, as copies or as views, and a damaged frame is
// DataLoss, never a partial answer.
#include "service/field_codec.h"

#include <gtest/gtest.h>

namespace custodian::service {
namespace {

TEST(FieldCodecTest, FieldsDecodeAsEncodedAsCopiesAndAsViews) {
  const SealedFields fields = {{"user.name", std::string("\x01\x00sealed", 8)},
                               {"user.contact.phone_number", std::string(300, '\xff')},
                               {"x", ""}};
  const std::string blob = EncodeFields(fields);
  auto copies = DecodeFields(blob);
  ASSERT_TRUE(copies.ok()) << copies.status().ToString();
  EXPECT_EQ(*copies, fields);
  auto views = DecodeFieldViews(blob);
  ASSERT_TRUE(views.ok()) << views.status().ToString();
  ASSERT_EQ(views->size(), fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i) {
    EXPECT_EQ((*views)[i].first, fields[i].first);
    EXPECT_EQ((*views)[i].second, fields[i].second);
    // Views point into the blob itself.
    EXPECT_GE((*views)[i].second.data(), blob.data());
    EXPECT_LE((*views)[i].second.data() + (*views)[i].second.size(), blob.data() + blob.size());
  }
  EXPECT_TRUE(DecodeFieldViews("")->empty());
  EXPECT_TRUE(DecodeFields("")->empty());
}

TEST(FieldCodecTest, ADamagedFrameIsDataLoss) {
  const std::string blob = EncodeFields({{"user.name", "sealed-bytes"}});
  for (std::size_t cut = 1; cut < blob.size(); ++cut) {
    auto views = DecodeFieldViews(blob.substr(0, cut));
    ASSERT_FALSE(views.ok()) << cut;
    EXPECT_EQ(views.status().code(), StatusCode::kDataLoss);
    EXPECT_EQ(views.status().message(), "sealed fields are truncated");
    EXPECT_EQ(DecodeFields(blob.substr(0, cut)).status().message(), "sealed fields are truncated");
  }
  auto trailing = DecodeFieldViews(blob + "x");
  EXPECT_EQ(trailing.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(trailing.status().message(), "sealed fields have trailing bytes");
  // A count far beyond what the blob holds is truncation, not a huge reserve.
  EXPECT_EQ(DecodeFieldViews(std::string("\xff\xff\xff\xff", 4)).status().message(),
            "sealed fields are truncated");
}

}  // namespace
}  // namespace custodian::service

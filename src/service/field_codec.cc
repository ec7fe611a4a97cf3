#include "service/field_codec.h"

#include <algorithm>
#include <cstdint>

namespace custodian::service {
namespace {

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U32(uint32_t& v) {
    if (in_.size() < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in_[i]);
    in_.remove_prefix(4);
    return true;
  }
  bool U16(uint16_t& v) {
    if (in_.size() < 2) return false;
    v = static_cast<uint16_t>((static_cast<unsigned char>(in_[0]) << 8) |
                              static_cast<unsigned char>(in_[1]));
    in_.remove_prefix(2);
    return true;
  }
  bool Bytes(std::size_t n, std::string_view& out) {
    if (in_.size() < n) return false;
    out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool empty() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

std::string EncodeFields(const SealedFields& fields) {
  std::string out;
  PutU32(out, static_cast<uint32_t>(fields.size()));
  for (const auto& [category, blob] : fields) {
    PutU16(out, static_cast<uint16_t>(category.size()));
    out += category;
    PutU32(out, static_cast<uint32_t>(blob.size()));
    out += blob;
  }
  return out;
}

Result<SealedFieldViews> DecodeFieldViews(std::string_view blob) {
  SealedFieldViews out;
  if (blob.empty()) return out;
  Reader r(blob);
  uint32_t count = 0;
  if (!r.U32(count)) return Status::DataLoss("sealed fields are truncated");
  out.reserve(std::min<uint32_t>(count, 64));
  for (uint32_t i = 0; i < count; ++i) {
    uint16_t clen = 0;
    uint32_t blen = 0;
    std::string_view category, sealed;
    if (!r.U16(clen) || !r.Bytes(clen, category) || !r.U32(blen) || !r.Bytes(blen, sealed)) {
      return Status::DataLoss("sealed fields are truncated");
    }
    out.emplace_back(category, sealed);
  }
  if (!r.empty()) return Status::DataLoss("sealed fields have trailing bytes");
  return out;
}

Result<SealedFields> DecodeFields(std::string_view blob) {
  ASSIGN_OR_RETURN(SealedFieldViews views, DecodeFieldViews(blob));
  SealedFields out;
  out.reserve(views.size());
  for (const auto& [category, sealed] : views) out.emplace_back(category, sealed);
  return out;
}

}  // namespace custodian::service

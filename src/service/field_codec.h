// Encoding of a subject's sealed fields into the one blob the store keeps:
// u32 count, then per field u16 category length, category, u32 blob length,
// sealed blob (all big-endian). Values stay sealed; this only frames them.
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "custodian/status.h"

namespace custodian::service {

using SealedFields = std::vector<std::pair<std::string, std::string>>;  // category, blob

std::string EncodeFields(const SealedFields& fields);
Result<SealedFields> DecodeFields(std::string_view blob);
// The same, as views into `blob` (which must outlive them): no copies, for
// reads that open only some fields (a lookup's projection).
using SealedFieldViews = std::vector<std::pair<std::string_view, std::string_view>>;
Result<SealedFieldViews> DecodeFieldViews(std::string_view blob);

}  // namespace custodian::service

// libFuzzer target for import::CsvReader (scripts/fuzz runs it).
//
// The whole input is the CSV file, so the seed corpus is plain CSV. Each input
// is read with the default limits and with small limits derived from its hash,
// and for each the target checks:
//   - the reader yields the same records, errors, lines and offsets whether the
//     source hands it 64 KiB or 1 to 16 bytes at a time (short reads);
//   - positions only move forward, lie within the input, and a record starts at
//     or after the previous position; fatal errors stick;
//   - rows have the header's field count, fields and records respect the limits
//     and are valid UTF-8 (checked here by an independent decoder);
//   - every error message is one of the known templates with only numbers filled
//     in, so no byte of the input can leak into a log;
//   - resuming at any reported position yields the next record again, and at a
//     sample of positions yields the same rest of the file;
//   - writing the header and good rows back out fully quoted and reading that
//     gives the same header and rows.
// A broken invariant aborts with a message; ASan/UBSan catch memory errors.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "import/csv_reader.h"
#include "fuzz_util.h"

namespace custodian::import {
namespace {

using fuzz::Check;
using fuzz::Masked;
using fuzz::ReferenceUtf8;

uint64_t Hash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Serves the input in reads of 1 to 16 bytes (or 64 KiB), sizes from a PRNG.
class ChoppySource final : public ByteSource {
 public:
  ChoppySource(std::string_view data, uint64_t seed, bool choppy)
      : data_(data), state_(seed | 1), choppy_(choppy) {}
  Result<size_t> Read(char* buf, size_t size) override {
    size_t n = std::min(size, data_.size() - pos_);
    if (choppy_) {
      state_ ^= state_ << 13;
      state_ ^= state_ >> 7;
      state_ ^= state_ << 17;
      n = std::min<size_t>(n, 1 + state_ % 16);
    }
    data_.copy(buf, n, pos_);
    pos_ += n;
    return n;
  }
  Status Seek(uint64_t offset) override {
    pos_ = std::min<uint64_t>(offset, data_.size());
    return Status::Ok();
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  uint64_t state_;
  bool choppy_;
};

// Every message the reader may produce, numbers aside.
bool KnownMessage(const std::string& message) {
  static const auto* kTemplates = [] {
    auto* set = new std::set<std::string>;
    for (const char* t : {
             "the file is empty; expected a header row naming the columns",
             "the file starts with a UTF-16 byte order mark; save it as UTF-8",
             "line 1, field 1: empty column name in the header; every column needs a name",
             "line 1: fields 1 and 2 of the header have the same name; column names must be "
             "unique",
             "line 1: the header has 1 fields, more than the limit of 1",
             "line 1, column 1: a '\"' inside an unquoted field; quote the whole field and double "
             "the quote",
             "line 1, column 1: text after the closing '\"' of a quoted field; expected ',' or "
             "the end of the line (double a '\"' that is part of the field)",
             "line 1: a quoted field opened on this line is never closed",
             "line 1, field 1: longer than the limit of 1 bytes",
             "line 1: the fields add up to more than the limit of 1 bytes",
             "line 1, field 1: not valid UTF-8 (byte 1 of the field); save the file as UTF-8",
             "line 1: expected 1 fields (as in the header), found 1",
         }) {
      set->insert(Masked(t));
    }
    return set;
  }();
  return kTemplates->count(Masked(message)) == 1;
}

struct Event {
  enum Kind { kRow, kRowError, kFatal } kind;
  std::vector<std::string> fields;
  std::string message;
  uint64_t offset, line;
  size_t error_field;
  CsvPosition after;
  bool operator==(const Event&) const = default;
};

struct Reading {
  bool header_ok = false;
  std::string header_error;
  std::vector<std::string> header;
  CsvPosition first;
  std::vector<Event> events;
  bool operator==(const Reading&) const = default;
};

std::unique_ptr<CsvReader> NewReader(std::string_view data, CsvOptions options, uint64_t seed,
                                     bool choppy) {
  auto reader = CsvReader::Create(std::make_unique<ChoppySource>(data, seed, choppy), options);
  Check(reader.ok(), "Create");
  return std::move(reader).value();
}

// Reads events until the end, a fatal error, or `max_events`.
void ReadEvents(CsvReader& reader, const CsvOptions& options, size_t columns,
                std::vector<Event>& events, size_t max_events = SIZE_MAX) {
  CsvPosition prev = reader.position();
  CsvRow row;
  while (events.size() < max_events) {
    Result<bool> next = reader.Next(row);
    if (next.ok() && !*next) {
      Check(reader.position().offset >= prev.offset, "end moves back");
      return;
    }
    Event e{Event::kRow, {}, "", row.offset, row.line, row.error_field, reader.position()};
    if (next.ok()) {
      Check(row.fields.size() == columns, "row has the header's field count");
      size_t total = 0;
      for (auto f : row.fields) {
        Check(f.size() <= options.max_field_bytes, "field limit");
        Check(ReferenceUtf8(f), "fields are valid UTF-8");
        total += f.size();
        e.fields.emplace_back(f);
      }
      Check(total <= options.max_record_bytes, "record limit");
      Check(row.error_field == CsvRow::kNoField, "error_field of a good row");
    } else {
      Check(next.status().code() == StatusCode::kInvalidArgument, "error code");
      Check(KnownMessage(next.status().message()), "error message is a known template");
      Check(row.fields.empty(), "no fields after an error");
      e.kind = reader.failed() ? Event::kFatal : Event::kRowError;
      e.message = next.status().message();
      Check(e.kind == Event::kFatal || row.error_field == CsvRow::kNoField ||
                row.error_field < columns,
            "error_field in range");
    }
    Check(row.offset >= prev.offset && row.line >= prev.line, "record starts after position");
    if (e.kind != Event::kFatal) {
      Check(e.after.offset > row.offset, "a record consumes bytes");
      Check(e.after.line >= row.line, "lines move forward");
    }
    events.push_back(e);
    if (e.kind == Event::kFatal) {
      Result<bool> again = reader.Next(row);
      Check(!again.ok() && again.status().message() == e.message, "fatal errors stick");
      return;
    }
    prev = e.after;
  }
}

Reading Read(std::string_view data, CsvOptions options, uint64_t seed, bool choppy) {
  Reading r;
  auto reader = NewReader(data, options, seed, choppy);
  Status st = reader->ReadHeader();
  if (!st.ok()) {
    Check(st.code() == StatusCode::kInvalidArgument, "header error code");
    Check(KnownMessage(st.message()), "header error message is a known template");
    Check(reader->failed(), "a header error is fatal");
    r.header_error = st.message();
    return r;
  }
  r.header_ok = true;
  r.header = reader->header();
  Check(!r.header.empty() && r.header.size() <= options.max_fields, "header size");
  std::set<std::string> names(r.header.begin(), r.header.end());
  Check(names.size() == r.header.size() && names.count("") == 0, "header names");
  r.first = reader->position();
  Check(r.first.offset <= data.size(), "header end within input");
  ReadEvents(*reader, options, r.header.size(), r.events);
  for (const Event& e : r.events) Check(e.after.offset <= data.size(), "position within input");
  return r;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

void CheckOptions(std::string_view data, CsvOptions options, uint64_t seed) {
  const Reading whole = Read(data, options, seed, /*choppy=*/false);
  CsvOptions small_chunks = options;
  small_chunks.chunk_bytes = 1 + seed % 16;
  Check(Read(data, small_chunks, seed >> 8, /*choppy=*/true) == whole, "chunking changes results");
  if (!whole.header_ok) return;

  // Resume at every position: the next event is the same; at a sample, the rest is.
  CsvOptions resume = options;
  resume.chunk_bytes = 1 + (seed >> 16) % 64;
  const size_t n = whole.events.size();
  for (size_t i = 0; i <= n; ++i) {
    const CsvPosition pos = i == 0 ? whole.first : whole.events[i - 1].after;
    if (i > 0 && whole.events[i - 1].kind == Event::kFatal) break;
    const bool full = n <= 16 || i % (n / 8 + 1) == 0 || i == n;
    auto reader = NewReader(data, resume, seed + i, /*choppy=*/true);
    Check(reader->ReadHeader().ok(), "header again");
    Check(reader->SeekTo(pos).ok(), "SeekTo a reported position");
    std::vector<Event> rest;
    ReadEvents(*reader, resume, whole.header.size(), rest, full ? SIZE_MAX : 1);
    Check(std::equal(rest.begin(), rest.end(), whole.events.begin() + i,
                     whole.events.begin() + i + std::min(rest.size(), n - i)) &&
              (full ? rest.size() == n - i : rest.size() == std::min<size_t>(1, n - i)),
          "resuming yields the same records");
  }

  // Round trip of the good rows.
  std::string out;
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < whole.header.size(); ++i) out += (i ? "," : "") + Quote(whole.header[i]);
  out += "\r\n";
  for (const Event& e : whole.events) {
    if (e.kind != Event::kRow) continue;
    rows.push_back(e.fields);
    for (size_t i = 0; i < e.fields.size(); ++i) out += (i ? "," : "") + Quote(e.fields[i]);
    out += "\n";
  }
  const Reading again = Read(out, options, seed, /*choppy=*/true);
  Check(again.header_ok && again.header == whole.header, "round trip header");
  Check(again.events.size() == rows.size(), "round trip row count");
  for (size_t i = 0; i < rows.size(); ++i) {
    Check(again.events[i].kind == Event::kRow && again.events[i].fields == rows[i],
          "round trip rows");
  }
}

}  // namespace
}  // namespace custodian::import

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace custodian::import;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const uint64_t seed = Hash(data);
  CheckOptions(data, CsvOptions{}, seed);
  CsvOptions small;
  small.max_field_bytes = 1 + (seed >> 24) % 24;
  small.max_record_bytes = 1 + (seed >> 32) % 64;
  small.max_fields = 1 + (seed >> 40) % 8;
  CheckOptions(data, small, seed >> 3);
  return 0;
}

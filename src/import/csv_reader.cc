#include "import/csv_reader.h"

#include <unistd.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>

namespace custodian::import {
namespace {

using std::to_string;

class IstreamSource final : public ByteSource {
 public:
  explicit IstreamSource(std::istream& in) : in_(in) {}

  Result<size_t> Read(char* buf, size_t size) override {
    // A stream that failed before reaching its end (a file that did not open)
    // must not look like an empty file.
    if (in_.bad() || (in_.fail() && !in_.eof())) {
      return Status::Unavailable("the input stream is not readable");
    }
    in_.read(buf, static_cast<std::streamsize>(size));
    const auto n = static_cast<size_t>(in_.gcount());
    if (n == 0 && in_.bad()) return Status::Unavailable("reading the input stream failed");
    return n;
  }

  Status Seek(uint64_t offset) override {
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset), std::ios::beg);
    if (in_.fail()) return Status::FailedPrecondition("the input stream cannot seek");
    return Status::Ok();
  }

 private:
  std::istream& in_;
};

class FdSource final : public ByteSource {
 public:
  explicit FdSource(int fd) : fd_(fd) {}

  Result<size_t> Read(char* buf, size_t size) override {
    for (;;) {
      const ssize_t n = ::read(fd_, buf, size);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) {
        return Status::Unavailable(std::string("reading the input failed: ") +
                                   std::strerror(errno));
      }
    }
  }

  Status Seek(uint64_t offset) override {
    if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) {
      return Status::FailedPrecondition(std::string("the input cannot seek: ") +
                                        std::strerror(errno));
    }
    return Status::Ok();
  }

 private:
  int fd_;
};

// Index of the first byte of `s` that does not begin a valid UTF-8 sequence
// (overlong forms, surrogates and code points above U+10FFFF are invalid), or
// npos if `s` is valid.
size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (s.size() - i >= 8) {  // eight ASCII bytes at a time
      uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    utf8proc_int32_t cp;
    const utf8proc_ssize_t n =
        utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                         static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    if (n <= 0) return i;
    i += static_cast<size_t>(n);
  }
  return std::string_view::npos;
}

std::string Line(uint64_t line) { return "line " + to_string(line); }

// Bytes that end a run of ordinary field bytes, outside and inside quotes.
// Line breaks end a run inside quotes too, so that Advance() counts lines.
using ByteSet = std::array<bool, 256>;
constexpr ByteSet MakeByteSet(std::string_view bytes) {
  ByteSet set{};
  for (char c : bytes) set[static_cast<unsigned char>(c)] = true;
  return set;
}
constexpr ByteSet kUnquotedStop = MakeByteSet(",\"\r\n");
constexpr ByteSet kQuotedStop = MakeByteSet("\"\r\n");

}  // namespace

std::unique_ptr<ByteSource> NewIstreamSource(std::istream& in) {
  return std::make_unique<IstreamSource>(in);
}

std::unique_ptr<ByteSource> NewFdSource(int fd) { return std::make_unique<FdSource>(fd); }

Result<std::unique_ptr<CsvReader>> CsvReader::Create(std::unique_ptr<ByteSource> source,
                                                     const CsvOptions& options) {
  if (options.chunk_bytes == 0 || options.max_field_bytes == 0 || options.max_record_bytes == 0 ||
      options.max_fields == 0) {
    return Status::InvalidArgument("CSV reader options: every size and limit must be at least 1");
  }
  return std::unique_ptr<CsvReader>(new CsvReader(std::move(source), options));
}

CsvReader::CsvReader(std::unique_ptr<ByteSource> source, const CsvOptions& options)
    // At least 4 bytes so that the byte order mark can be looked at whole.
    : source_(std::move(source)),
      options_(options),
      buffer_(std::max<size_t>(options.chunk_bytes, 4)) {}

CsvReader::~CsvReader() = default;

CsvPosition CsvReader::position() const { return {ReadOffset(), line_}; }

Status CsvReader::Fill() {
  if (pos_ < end_ || eof_) return Status::Ok();
  buffer_offset_ += end_;
  pos_ = end_ = 0;
  ASSIGN_OR_RETURN(const size_t n, source_->Read(buffer_.data(), options_.chunk_bytes));
  if (n > options_.chunk_bytes) return Status::Internal("the input source read too much");
  if (n == 0) eof_ = true;
  end_ = n;
  return Status::Ok();
}

Status CsvReader::FillAtLeast(size_t n) {
  while (end_ - pos_ < n && !eof_) {
    if (pos_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
      buffer_offset_ += pos_;
      end_ -= pos_;
      pos_ = 0;
    }
    const size_t want = std::min(options_.chunk_bytes, buffer_.size() - end_);
    ASSIGN_OR_RETURN(const size_t got, source_->Read(buffer_.data() + end_, want));
    if (got > want) return Status::Internal("the input source read too much");
    if (got == 0) eof_ = true;
    end_ += got;
  }
  return Status::Ok();
}

void CsvReader::Advance(unsigned char c) {
  ++pos_;
  if (c == '\n') {
    if (!after_cr_) ++line_;
    column_ = 0;
    after_cr_ = false;
  } else if (c == '\r') {
    ++line_;
    column_ = 0;
    after_cr_ = true;
  } else {
    after_cr_ = false;
    if ((c & 0xC0) != 0x80) ++column_;  // not a UTF-8 continuation byte
  }
}

Status CsvReader::ConsumeLineBreak() {
  const auto c = static_cast<unsigned char>(buffer_[pos_]);
  Advance(c);
  if (c == '\r') {
    RETURN_IF_ERROR(Fill());
    if (pos_ < end_ && buffer_[pos_] == '\n') Advance('\n');
  }
  return Status::Ok();
}

Status CsvReader::SkipByteOrderMark() {
  RETURN_IF_ERROR(FillAtLeast(3));
  const std::string_view start(buffer_.data() + pos_, end_ - pos_);
  if (start.starts_with("\xEF\xBB\xBF")) {
    pos_ += 3;  // not a character of line 1: columns start after it
  } else if (start.starts_with("\xFF\xFE") || start.starts_with("\xFE\xFF")) {
    return Status::InvalidArgument(
        "the file starts with a UTF-16 byte order mark; save it as UTF-8");
  }
  return Status::Ok();
}

void CsvReader::SetRowError(size_t field, std::string message) {
  if (row_error_) return;  // the first problem in the record is the one reported
  row_error_ = Status::InvalidArgument(std::move(message));
  // A field past the header's columns has no name to report it under.
  row_error_field_ = field < store_fields_ ? field : CsvRow::kNoField;
}

void CsvReader::Append(unsigned char c) {
  ++field_bytes_;
  if (row_error_ || field_count_ >= store_fields_) return;
  if (field_bytes_ > options_.max_field_bytes) {
    SetRowError(field_count_, Line(record_line_) + ", field " + to_string(field_count_ + 1) +
                                  ": longer than the limit of " +
                                  to_string(options_.max_field_bytes) + " bytes");
    return;
  }
  if (row_data_.size() >= options_.max_record_bytes) {
    SetRowError(CsvRow::kNoField, Line(record_line_) +
                                      ": the fields add up to more than the limit of " +
                                      to_string(options_.max_record_bytes) + " bytes");
    return;
  }
  row_data_.push_back(static_cast<char>(c));
}

void CsvReader::AppendRun(const char* bytes, size_t n) {
  if (row_error_ || field_count_ >= store_fields_) {
    field_bytes_ += n;
    return;
  }
  if (n > options_.max_field_bytes - field_bytes_ ||
      n > options_.max_record_bytes - row_data_.size()) {
    // A limit is reached in this run: let Append() find which one, and where.
    for (size_t i = 0; i < n; ++i) Append(static_cast<unsigned char>(bytes[i]));
    return;
  }
  field_bytes_ += n;
  row_data_.append(bytes, n);
}

void CsvReader::EndField() {
  if (!row_error_ && field_count_ < store_fields_) {
    const size_t start = field_ends_.empty() ? 0 : field_ends_.back();
    const size_t bad =
        FindInvalidUtf8(std::string_view(row_data_).substr(start, row_data_.size() - start));
    if (bad != std::string_view::npos) {
      SetRowError(field_count_, Line(record_line_) + ", field " + to_string(field_count_ + 1) +
                                    ": not valid UTF-8 (byte " + to_string(bad + 1) +
                                    " of the field); save the file as UTF-8");
    }
    field_ends_.push_back(row_data_.size());
  }
  ++field_count_;
  field_bytes_ = 0;
}

Result<bool> CsvReader::ParseRecord(size_t store_fields) {
  row_data_.clear();
  field_ends_.clear();
  store_fields_ = store_fields;
  field_count_ = 0;
  field_bytes_ = 0;
  row_error_.reset();
  row_error_field_ = CsvRow::kNoField;

  // Blank lines between records are skipped.
  for (;;) {
    RETURN_IF_ERROR(Fill());
    record_offset_ = ReadOffset();
    record_line_ = line_;
    if (pos_ == end_) return false;
    if (buffer_[pos_] != '\n' && buffer_[pos_] != '\r') break;
    RETURN_IF_ERROR(ConsumeLineBreak());
  }

  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };
  State state = State::kFieldStart;
  uint64_t quote_line = 0;
  for (;;) {
    if (pos_ == end_) {
      RETURN_IF_ERROR(Fill());
      if (pos_ == end_) {  // the input ends the record
        if (state == State::kQuoted) {
          return Status::InvalidArgument(Line(quote_line) +
                                         ": a quoted field opened on this line is never closed");
        }
        EndField();
        return true;
      }
    }
    if (state == State::kUnquoted || state == State::kQuoted) {
      // Fast path: a run of bytes that are neither quotes, commas nor line breaks.
      const ByteSet& stop = state == State::kQuoted ? kQuotedStop : kUnquotedStop;
      size_t i = pos_;
      uint64_t characters = 0;
      while (i < end_) {
        const auto b = static_cast<unsigned char>(buffer_[i]);
        if (stop[b]) break;
        characters += (b & 0xC0) != 0x80;
        ++i;
      }
      if (i > pos_) {
        AppendRun(buffer_.data() + pos_, i - pos_);
        column_ += characters;
        after_cr_ = false;
        pos_ = i;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(buffer_[pos_]);
    switch (state) {
      case State::kQuoted:
        if (c == '"') {
          state = State::kQuoteInQuoted;
        } else {
          Append(c);
        }
        Advance(c);
        continue;
      case State::kQuoteInQuoted:
        if (c == '"') {  // a doubled quote stands for one
          Append(c);
          Advance(c);
          state = State::kQuoted;
          continue;
        }
        if (c == ',' || c == '\n' || c == '\r') break;
        SetRowError(field_count_,
                    Line(line_) + ", column " + to_string(column_ + 1) +
                        ": text after the closing '\"' of a quoted field; expected ',' or the "
                        "end of the line (double a '\"' that is part of the field)");
        // Go on as if the field were unquoted, to find where the record ends.
        Append(c);
        Advance(c);
        state = State::kUnquoted;
        continue;
      case State::kFieldStart:
        if (c == '"') {
          quote_line = line_;
          Advance(c);
          state = State::kQuoted;
          continue;
        }
        [[fallthrough]];
      case State::kUnquoted:
        if (c == ',' || c == '\n' || c == '\r') break;
        if (c == '"') {
          SetRowError(field_count_, Line(line_) + ", column " + to_string(column_ + 1) +
                                        ": a '\"' inside an unquoted field; quote the whole "
                                        "field and double the quote");
        }
        Append(c);
        Advance(c);
        state = State::kUnquoted;
        continue;
    }
    // A ',' or a line break outside quotes.
    EndField();
    if (c == ',') {
      Advance(c);
      state = State::kFieldStart;
      continue;
    }
    RETURN_IF_ERROR(ConsumeLineBreak());
    return true;
  }
}

Status CsvReader::ReadHeader() {
  if (header_done_ || fatal_) {
    return Status::FailedPrecondition("CsvReader::ReadHeader() may only be called once, first");
  }
  auto fail = [this](Status st) {
    fatal_ = st;
    return st;
  };
  if (Status st = SkipByteOrderMark(); !st.ok()) return fail(std::move(st));
  Result<bool> parsed = ParseRecord(options_.max_fields);
  if (!parsed.ok()) return fail(parsed.status());
  if (!*parsed) {
    return fail(
        Status::InvalidArgument("the file is empty; expected a header row naming the columns"));
  }
  if (row_error_) return fail(*row_error_);
  if (field_count_ > options_.max_fields) {
    return fail(Status::InvalidArgument(
        Line(record_line_) + ": the header has " + to_string(field_count_) +
        " fields, more than the limit of " + to_string(options_.max_fields)));
  }
  std::vector<std::string> names;
  std::unordered_map<std::string_view, size_t> seen;
  size_t start = 0;
  for (size_t i = 0; i < field_ends_.size(); ++i) {
    std::string_view name(row_data_.data() + start, field_ends_[i] - start);
    start = field_ends_[i];
    if (name.empty()) {
      return fail(Status::InvalidArgument(Line(record_line_) + ", field " + to_string(i + 1) +
                                          ": empty column name in the header; every column "
                                          "needs a name"));
    }
    auto [it, inserted] = seen.emplace(name, i);
    if (!inserted) {
      return fail(Status::InvalidArgument(
          Line(record_line_) + ": fields " + to_string(it->second + 1) + " and " +
          to_string(i + 1) + " of the header have the same name; column names must be unique"));
    }
    names.emplace_back(name);
  }
  header_ = std::move(names);
  header_done_ = true;
  first_record_ = position();
  return Status::Ok();
}

Result<bool> CsvReader::Next(CsvRow& row) {
  row.fields.clear();
  row.error_field = CsvRow::kNoField;
  if (!header_done_) {
    return Status::FailedPrecondition("CsvReader::Next() before ReadHeader() succeeded");
  }
  if (fatal_) return *fatal_;
  Result<bool> parsed = ParseRecord(header_.size());
  row.offset = record_offset_;
  row.line = record_line_;
  if (!parsed.ok()) {
    fatal_ = parsed.status();
    return *fatal_;
  }
  if (!*parsed) return false;
  if (field_count_ != header_.size()) {
    SetRowError(CsvRow::kNoField, Line(record_line_) + ": expected " + to_string(header_.size()) +
                                      " fields (as in the header), found " +
                                      to_string(field_count_));
  }
  if (row_error_) {
    row.error_field = row_error_field_;
    return *row_error_;
  }
  row.fields.reserve(field_ends_.size());
  size_t start = 0;
  for (size_t end : field_ends_) {
    row.fields.emplace_back(row_data_.data() + start, end - start);
    start = end;
  }
  return true;
}

Status CsvReader::SeekTo(const CsvPosition& pos) {
  if (!header_done_) {
    return Status::FailedPrecondition("CsvReader::SeekTo() before ReadHeader() succeeded");
  }
  if (pos.offset < first_record_.offset || pos.line < first_record_.line) {
    return Status::InvalidArgument("resume position (offset " + to_string(pos.offset) + ", line " +
                                   to_string(pos.line) + ") is before the first record (offset " +
                                   to_string(first_record_.offset) + ", line " +
                                   to_string(first_record_.line) + ")");
  }
  if (Status st = source_->Seek(pos.offset); !st.ok()) {
    fatal_ = st;  // where the source now stands is unknown
    return st;
  }
  buffer_offset_ = pos.offset;
  pos_ = end_ = 0;
  eof_ = false;
  line_ = pos.line;
  column_ = 0;
  after_cr_ = false;
  fatal_.reset();
  return Status::Ok();
}

}  // namespace custodian::import

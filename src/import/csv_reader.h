// CsvReader: a streaming RFC 4180 reader for bulk import.
//
// Reads a header row, then one record at a time, from a ByteSource in chunks,
// so memory stays flat whatever the file size: the reader holds one chunk and
// one record, bounded by CsvOptions. The rules (quoting, line breaks, BOM, blank
// lines, limits) are in docs/import.md, "CSV rules".
//
// Errors are Status::InvalidArgument whose message gives the position (line,
// column or field number) and what was found and expected, never a byte of the
// file's contents: the fields are personal data and the messages get logged.
// Two kinds:
//   - row-level (wrong field count, invalid UTF-8, a misplaced quote, a field or
//     record over its limit): Next() returns the error for that record and the
//     next call goes on with the following record, so an importer can reject the
//     row and continue;
//   - fatal (a quoted field never closed, an I/O error, a bad header): every
//     later call returns the same error and failed() is true.
//
// Resuming: position() after a record is where the next one starts. Store it
// with an import checkpoint; later, open the same file, ReadHeader(), then
// SeekTo() the stored position, and the reader yields exactly the records an
// uninterrupted read would have, with the same line numbers and offsets.
//
// Thread-safety: a CsvReader is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "custodian/status.h"

namespace custodian::import {

// Where the bytes come from. Offsets count from the source's first byte (the
// file's first byte, BOM included).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `size` (> 0) bytes into `buf`. Returns how many were read;
  // fewer than asked is fine, 0 means the end of the input. An I/O failure is
  // Unavailable.
  virtual Result<size_t> Read(char* buf, size_t size) = 0;
  // Makes the next Read() start at byte `offset`. FailedPrecondition if the
  // input cannot seek (a pipe).
  virtual Status Seek(uint64_t offset) = 0;
};

// Reads `in` from its current position, which must be the start of the file
// for offsets and SeekTo() to be meaningful. Borrows `in`: it must outlive the
// source.
std::unique_ptr<ByteSource> NewIstreamSource(std::istream& in);
// Reads the file descriptor with read(2) and seeks with lseek(2). Borrows `fd`:
// the caller closes it after the source is gone.
std::unique_ptr<ByteSource> NewFdSource(int fd);

struct CsvOptions {
  // Bytes asked of the source per read.
  size_t chunk_bytes = 64 * 1024;
  // Longest field, in bytes after unquoting.
  size_t max_field_bytes = 1024 * 1024;
  // Sum of a record's field sizes, in bytes after unquoting. With
  // max_field_bytes this bounds the memory a record takes.
  size_t max_record_bytes = 8 * 1024 * 1024;
  // Most columns a header may name. A data row with more fields than the
  // header is a field-count error; its extra fields are counted, not stored.
  size_t max_fields = 1024;
};

// A place in the input at a record boundary.
struct CsvPosition {
  uint64_t offset = 0;  // byte offset from the start of the input
  uint64_t line = 1;    // 1-based physical line number at that offset
  friend bool operator==(const CsvPosition&, const CsvPosition&) = default;
};

// One record. Filled by CsvReader::Next().
struct CsvRow {
  static constexpr size_t kNoField = std::numeric_limits<size_t>::max();

  // One per header column, unquoted, valid UTF-8. The views point into the
  // reader and are valid until the next call on it. Empty after an error.
  std::vector<std::string_view> fields;
  // Where the record starts: its first byte and its physical line (a quoted
  // field may continue the record over several lines). After a row-level
  // error the bad record spans [offset, reader.position().offset) of the input,
  // so an importer can copy it verbatim into a rejects file.
  uint64_t offset = 0;
  uint64_t line = 0;
  // After a row-level error: the 0-based field the error is about, always less
  // than the header's column count, or kNoField (wrong field count, record too
  // long, a problem in a field past the header's columns).
  size_t error_field = kNoField;
};

class CsvReader {
 public:
  // Takes ownership of `source`. InvalidArgument if an option is 0.
  static Result<std::unique_ptr<CsvReader>> Create(std::unique_ptr<ByteSource> source,
                                                   const CsvOptions& options = {});

  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;
  ~CsvReader();

  // Reads the header row: the first record that is not a blank line. Fails
  // (fatally) if the input is empty, the header is malformed, or a name is empty
  // or repeated. Call it once, first.
  Status ReadHeader();
  // The column names; empty until ReadHeader() succeeds.
  const std::vector<std::string>& header() const { return header_; }

  // Reads the next record into `row`: true with a row, false at the end of the
  // input, or an error (row-level or fatal; see the top of this file) with
  // row.line, row.offset and row.error_field saying where.
  // FailedPrecondition before ReadHeader() has succeeded.
  Result<bool> Next(CsvRow& row);

  // Where the next record starts: after ReadHeader(), the first record; after
  // Next(), the byte after the record's line break (blank lines after it are
  // skipped by the next call, not counted here).
  CsvPosition position() const;
  uint64_t offset() const { return position().offset; }

  // Continues reading at `pos`, which must be a position() this reader (or one
  // on the same file) reported after ReadHeader(). FailedPrecondition before
  // ReadHeader() or if the source cannot seek; InvalidArgument if `pos` is
  // before the first record. Clears a fatal error reached after the header.
  Status SeekTo(const CsvPosition& pos);

  // True after a fatal error: Next() will only return it again.
  bool failed() const { return fatal_.has_value(); }

 private:
  CsvReader(std::unique_ptr<ByteSource> source, const CsvOptions& options);

  // Refills the buffer when it is used up; at the end of the input it stays empty.
  Status Fill();
  // Makes at least `n` unread bytes available unless the input ends first.
  Status FillAtLeast(size_t n);
  void Advance(unsigned char c);
  // Consumes the CR, LF or CRLF at the read position.
  Status ConsumeLineBreak();
  Status SkipByteOrderMark();
  // Parses one record into row_data_/field_ends_. True with a record (which may
  // carry a row-level error_), false at the end of the input, or a fatal error.
  Result<bool> ParseRecord(size_t store_fields);
  void Append(unsigned char c);
  // Appends `n` ordinary bytes, as n calls of Append() would.
  void AppendRun(const char* bytes, size_t n);
  void EndField();
  void SetRowError(size_t field, std::string message);
  uint64_t ReadOffset() const { return buffer_offset_ + pos_; }

  std::unique_ptr<ByteSource> source_;
  CsvOptions options_;

  // The current chunk: buffer_[pos_, end_) is unread; buffer_[0] is at input
  // offset buffer_offset_.
  std::vector<char> buffer_;
  size_t pos_ = 0;
  size_t end_ = 0;
  uint64_t buffer_offset_ = 0;
  bool eof_ = false;

  // Position of the next unread byte.
  uint64_t line_ = 1;
  uint64_t column_ = 0;  // characters (UTF-8 sequences) already read on this line
  bool after_cr_ = false;

  // The record being parsed: unquoted fields back to back in row_data_, field i
  // ending at field_ends_[i]. Only the first `store_fields_` fields are kept.
  std::string row_data_;
  std::vector<size_t> field_ends_;
  size_t store_fields_ = 0;
  size_t field_count_ = 0;
  size_t field_bytes_ = 0;
  uint64_t record_offset_ = 0;
  uint64_t record_line_ = 0;
  // The first row-level error in the record; once set, nothing more is stored.
  std::optional<Status> row_error_;
  size_t row_error_field_ = CsvRow::kNoField;

  std::vector<std::string> header_;
  bool header_done_ = false;
  CsvPosition first_record_;
  std::optional<Status> fatal_;
};

}  // namespace custodian::import

// CsvReader tests. The table gives input bytes and everything the reader
// yields, exact error messages included; every case is run with several chunk
// sizes (the same results are required) and resumed from every position the
// reader reports (the same suffix is required).
#include "import/csv_reader.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace custodian::import {
namespace {

using namespace std::string_literals;
using testing::ElementsAreArray;
using testing::HasSubstr;
using testing::Not;

// Serves a string, at most `max_read` bytes per Read(), like a pipe would.
class StringSource final : public ByteSource {
 public:
  StringSource(std::string data, size_t max_read) : data_(std::move(data)), max_read_(max_read) {}
  Result<size_t> Read(char* buf, size_t size) override {
    const size_t n = std::min({size, max_read_, data_.size() - pos_});
    data_.copy(buf, n, pos_);
    pos_ += n;
    return n;
  }
  Status Seek(uint64_t offset) override {
    pos_ = std::min<uint64_t>(offset, data_.size());
    return Status::Ok();
  }

 private:
  std::string data_;
  size_t max_read_;
  size_t pos_ = 0;
};

std::unique_ptr<CsvReader> Open(const std::string& input, CsvOptions options) {
  auto reader =
      CsvReader::Create(std::make_unique<StringSource>(input, options.chunk_bytes), options);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  return std::move(reader).value();
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\0') {
      out += "\\0";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Fields(const std::vector<std::string_view>& fields) {
  std::string out;
  for (auto f : fields) out += "[" + Escape(f) + "]";
  return out;
}

// What one call yielded, as the table writes it, and where.
struct Event {
  std::string text;     // "2: [a][b]", "error@2: <message>", "fatal: <message>"
  std::string located;  // text plus offsets, for the chunking and resuming checks
};

// Reads records with Next() until the end or a fatal error, recording every
// result and the position() after each call that the reader can go on from.
void ReadRecords(CsvReader& reader, std::vector<Event>& events,
                 std::vector<std::pair<size_t, CsvPosition>>* positions) {
  for (;;) {
    CsvRow row;
    Result<bool> next = reader.Next(row);
    if (next.ok() && !*next) return;
    std::string text;
    if (next.ok()) {
      text = std::to_string(row.line) + ": " + Fields(row.fields);
    } else if (reader.failed()) {
      text = "fatal: " + next.status().message();
    } else {
      EXPECT_EQ(next.status().code(), StatusCode::kInvalidArgument);
      text = "error";
      if (row.error_field != CsvRow::kNoField) text += "@" + std::to_string(row.error_field + 1);
      text += ": " + next.status().message();
    }
    const CsvPosition pos = reader.position();
    events.push_back({text, text + " {" + std::to_string(row.line) + "@" +
                                std::to_string(row.offset) + " -> " + std::to_string(pos.line) +
                                "@" + std::to_string(pos.offset) + "}"});
    if (reader.failed()) {
      // Fatal errors stick.
      Result<bool> again = reader.Next(row);
      EXPECT_FALSE(again.ok());
      EXPECT_EQ(again.status().message(), next.status().message());
      return;
    }
    if (positions != nullptr) positions->emplace_back(events.size(), pos);
  }
}

std::vector<Event> ReadAll(const std::string& input, const CsvOptions& options,
                           std::vector<std::pair<size_t, CsvPosition>>* positions) {
  std::vector<Event> events;
  auto reader = Open(input, options);
  Status header = reader->ReadHeader();
  if (!header.ok()) {
    EXPECT_EQ(header.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(reader->failed());
    events.push_back({"fatal: " + header.message(), "fatal: " + header.message()});
    return events;
  }
  std::string names;
  for (const auto& n : reader->header()) names += "[" + Escape(n) + "]";
  const CsvPosition first = reader->position();
  events.push_back({"header " + names, "header " + names + " -> " + std::to_string(first.line) +
                                           "@" + std::to_string(first.offset)});
  if (positions != nullptr) positions->emplace_back(1, first);
  ReadRecords(*reader, events, positions);
  return events;
}

std::vector<std::string> Texts(const std::vector<Event>& events, size_t from = 0) {
  std::vector<std::string> out;
  for (size_t i = from; i < events.size(); ++i) out.push_back(events[i].text);
  return out;
}
std::vector<std::string> Located(const std::vector<Event>& events, size_t from = 0) {
  std::vector<std::string> out;
  for (size_t i = from; i < events.size(); ++i) out.push_back(events[i].located);
  return out;
}

struct Case {
  std::string name;
  std::string input;
  std::vector<std::string> expected;
  CsvOptions options = {};
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

CsvOptions Limits(size_t field, size_t record, size_t fields) {
  CsvOptions o;
  o.max_field_bytes = field;
  o.max_record_bytes = record;
  o.max_fields = fields;
  return o;
}

const std::string kBareQuote =
    ": a '\"' inside an unquoted field; quote the whole field and double the quote";
const std::string kAfterQuote =
    ": text after the closing '\"' of a quoted field; expected ',' or the end of the line "
    "(double a '\"' that is part of the field)";
const std::string kNotUtf8 = " of the field); save the file as UTF-8";

const std::vector<Case>& Cases() {
  static const auto* cases = new std::vector<Case>{
      // Line endings.
      {"lf", "a,b\n1,2\n3,4\n", {"header [a][b]", "2: [1][2]", "3: [3][4]"}},
      {"crlf", "a,b\r\n1,2\r\n3,4\r\n", {"header [a][b]", "2: [1][2]", "3: [3][4]"}},
      {"no_final_newline", "a,b\n1,2\n3,4", {"header [a][b]", "2: [1][2]", "3: [3][4]"}},
      {"mixed_endings",
       "a,b\r\n1,2\n3,4\r5,6\r\n7,8",
       {"header [a][b]", "2: [1][2]", "3: [3][4]", "4: [5][6]", "5: [7][8]"}},
      {"cr_only", "a,b\r1,2\r3,4\r", {"header [a][b]", "2: [1][2]", "3: [3][4]"}},
      {"lf_cr_is_two_breaks", "a,b\n\r1,2\n", {"header [a][b]", "3: [1][2]"}},
      {"final_cr_at_eof", "a,b\n1,2\r", {"header [a][b]", "2: [1][2]"}},
      // Header only, empty files, BOM.
      {"header_only", "a,b\n", {"header [a][b]"}},
      {"header_only_no_newline", "a,b", {"header [a][b]"}},
      {"header_then_blank_lines", "a,b\r\n\r\n\n", {"header [a][b]"}},
      {"empty_file", "", {"fatal: the file is empty; expected a header row naming the columns"}},
      {"only_blank_lines",
       "\n\r\n\r",
       {"fatal: the file is empty; expected a header row naming the columns"}},
      {"only_bom",
       "\xEF\xBB\xBF",
       {"fatal: the file is empty; expected a header row naming the columns"}},
      {"bom",
       "\xEF\xBB\xBF"
       "a,b\n1,2\n",
       {"header [a][b]", "2: [1][2]"}},
      {"bom_then_quoted_header", "\xEF\xBB\xBF\"a\",b\n", {"header [a][b]"}},
      {"bom_later_is_data", "a,b\n\xEF\xBB\xBFx,y\n", {"header [a][b]", "2: [\xEF\xBB\xBFx][y]"}},
      {"utf16_le_bom",
       "\xFF\xFE"
       "a\0,\0b\0"s,
       {"fatal: the file starts with a UTF-16 byte order mark; save it as UTF-8"}},
      {"utf16_be_bom",
       "\xFE\xFF\0a"s,
       {"fatal: the file starts with a UTF-16 byte order mark; save it as UTF-8"}},
      {"partial_bom_is_data",
       "\xEF\xBB,a\n",
       {"fatal: line 1, field 1: not valid UTF-8 (byte 1" + kNotUtf8}},
      // Fields.
      {"empty_fields", "a,b,c\n,,\n1,,3\n", {"header [a][b][c]", "2: [][][]", "3: [1][][3]"}},
      {"trailing_comma", "a,b\n1,\n", {"header [a][b]", "2: [1][]"}},
      {"spaces_are_data", "a,b\n 1 , 2 \n", {"header [a][b]", "2: [ 1 ][ 2 ]"}},
      {"nul_is_data", "a\nx\0y\n"s, {"header [a]", "2: [x\\0y]"}},
      {"quoted_comma", "a,b\n\"x,y\",z\n", {"header [a][b]", "2: [x,y][z]"}},
      {"doubled_quotes",
       "a,b\n\"say \"\"hi\"\"\",\"\"\"\"\n",
       {"header [a][b]", "2: [say \"hi\"][\"]"}},
      {"quoted_empty", "a,b\n\"\",\"\"\n", {"header [a][b]", "2: [][]"}},
      {"quoted_lf", "a,b\n\"l1\nl2\",z\n3,4\n", {"header [a][b]", "2: [l1\\nl2][z]", "4: [3][4]"}},
      {"quoted_crlf_kept",
       "a,b\r\n\"l1\r\nl2\",z\r\n3,4\r\n",
       {"header [a][b]", "2: [l1\\r\\nl2][z]", "4: [3][4]"}},
      {"quoted_lone_cr",
       "a,b\n\"l1\rl2\",z\n3,4\n",
       {"header [a][b]", "2: [l1\\rl2][z]", "4: [3][4]"}},
      {"quoted_blank_lines_kept", "a,b\n\"\n\n\",z\n", {"header [a][b]", "2: [\\n\\n][z]"}},
      {"quoted_at_eof", "a,b\n\"x\",\"y\"", {"header [a][b]", "2: [x][y]"}},
      {"quoted_then_empty_at_eof", "a,b\n\"x\",", {"header [a][b]", "2: [x][]"}},
      {"quoted_header", "\"first name\",\"e,mail\"\n", {"header [first name][e,mail]"}},
      {"utf8_fields",
       "name,city\nJos\xC3\xA9,\xE0\xA4\xA6\xE0\xA4\xBF\xE0\xA4\xB2\xE0\xA5\x8D\xE0\xA4\xB2\xE0\xA5"
       "\x80\n\xF0\x9F\x98\x80,x\n",
       {"header [name][city]",
        "2: "
        "[Jos\xC3\xA9][\xE0\xA4\xA6\xE0\xA4\xBF\xE0\xA4\xB2\xE0\xA5\x8D\xE0\xA4\xB2\xE0\xA5\x80]",
        "3: [\xF0\x9F\x98\x80][x]"}},
      // Blank lines.
      {"blank_lines_skipped",
       "a,b\n\n1,2\n\r\n\r\n3,4\n\n",
       {"header [a][b]", "3: [1][2]", "6: [3][4]"}},
      {"blank_lines_before_header", "\n\r\na,b\n1,2\n", {"header [a][b]", "4: [1][2]"}},
      {"one_column_blank_line_skipped", "a\n\nx\n", {"header [a]", "3: [x]"}},
      {"one_column_empty_value_quoted", "a\n\"\"\nx\n", {"header [a]", "2: []", "3: [x]"}},
      {"whitespace_line_is_a_record", "a\n \n", {"header [a]", "2: [ ]"}},
      // Field counts.
      {"too_few_fields",
       "a,b,c,d,e\n1,2,3,4,5\n1,2,3,4\n6,7,8,9,0\n",
       {"header [a][b][c][d][e]", "2: [1][2][3][4][5]",
        "error: line 3: expected 5 fields (as in the header), found 4", "4: [6][7][8][9][0]"}},
      {"too_many_fields",
       "a,b\n1,2,3\n4,5\n",
       {"header [a][b]", "error: line 2: expected 2 fields (as in the header), found 3",
        "3: [4][5]"}},
      {"count_after_multiline_field",
       "a,b\n\"x\ny\"\n4,5\n",
       {"header [a][b]", "error: line 2: expected 2 fields (as in the header), found 1",
        "4: [4][5]"}},
      // Quotes in the wrong place: row-level, reading goes on.
      {"bare_quote",
       "a,b\nab\"c,d\n5,6\n",
       {"header [a][b]", "error@1: line 2, column 3" + kBareQuote, "3: [5][6]"}},
      {"space_before_quote",
       "a,b\n1, \"2\"\n5,6\n",
       {"header [a][b]", "error@2: line 2, column 4" + kBareQuote, "3: [5][6]"}},
      {"bare_quote_column_counts_characters",
       "a,b\n\xC3\xA9\xC3\xA9\"x,y\n",
       {"header [a][b]", "error@1: line 2, column 3" + kBareQuote}},
      {"bare_quote_on_a_continuation_line",
       "a,b\n\"x\ny\",z\"\n5,6\n",
       {"header [a][b]", "error@2: line 3, column 5" + kBareQuote, "4: [5][6]"}},
      {"bare_quote_in_a_field_past_the_header",
       "a,b\n1,2,x\"\n",
       {"header [a][b]", "error: line 2, column 6" + kBareQuote}},
      {"text_after_closing_quote",
       "a,b\n\"ab\"c,d\n5,6\n",
       {"header [a][b]", "error@1: line 2, column 5" + kAfterQuote, "3: [5][6]"}},
      {"undoubled_quote_inside_quotes",
       "a,b\n\"say \"hi\" now\",x\n5,6\n",
       {"header [a][b]", "error@1: line 2, column 7" + kAfterQuote, "3: [5][6]"}},
      {"first_problem_is_reported",
       "a,b,c\n\"x\"y,\xFF\n\xFF\n",
       {"header [a][b][c]", "error@1: line 2, column 4" + kAfterQuote,
        "error@1: line 3, field 1: not valid UTF-8 (byte 1" + kNotUtf8}},
      // Never closed: fatal.
      {"unterminated_quote",
       "a,b\n1,2\n\"open,3\n4,5\n",
       {"header [a][b]", "2: [1][2]",
        "fatal: line 3: a quoted field opened on this line is never closed"}},
      {"unterminated_second_field",
       "a,b\n\"x\ny\",\"z\n\n",
       {"header [a][b]", "fatal: line 3: a quoted field opened on this line is never closed"}},
      {"unterminated_lone_quote_at_eof",
       "a,b\n1,\"",
       {"header [a][b]", "fatal: line 2: a quoted field opened on this line is never closed"}},
      {"unterminated_in_header",
       "\"a,b\n",
       {"fatal: line 1: a quoted field opened on this line is never closed"}},
      // UTF-8.
      {"invalid_byte",
       "a,b\n1,\xFF\n3,4\n",
       {"header [a][b]", "error@2: line 2, field 2: not valid UTF-8 (byte 1" + kNotUtf8,
        "3: [3][4]"}},
      {"overlong_slash",
       "a\nab\xC0\xAF\n",
       {"header [a]", "error@1: line 2, field 1: not valid UTF-8 (byte 3" + kNotUtf8}},
      {"surrogate",
       "a\n\xED\xA0\x80\n",
       {"header [a]", "error@1: line 2, field 1: not valid UTF-8 (byte 1" + kNotUtf8}},
      {"above_u10ffff",
       "a\n\xF4\x90\x80\x80\n",
       {"header [a]", "error@1: line 2, field 1: not valid UTF-8 (byte 1" + kNotUtf8}},
      {"truncated_sequence",
       "a,b\nx\xE2\x82,y\n",
       {"header [a][b]", "error@1: line 2, field 1: not valid UTF-8 (byte 2" + kNotUtf8}},
      {"invalid_in_quoted_multiline",
       "a,b\n\"x\n\xFF\",y\n1,2\n",
       {"header [a][b]", "error@1: line 2, field 1: not valid UTF-8 (byte 3" + kNotUtf8,
        "4: [1][2]"}},
      {"invalid_in_extra_field_is_a_count_error",
       "a\nx,\xFF\n",
       {"header [a]", "error: line 2: expected 1 fields (as in the header), found 2"}},
      // Header rules.
      {"header_invalid_utf8",
       "a,\xFF\n",
       {"fatal: line 1, field 2: not valid UTF-8 (byte 1" + kNotUtf8}},
      {"header_empty_name",
       "a,,c\n",
       {"fatal: line 1, field 2: empty column name in the header; every column needs a name"}},
      {"header_empty_last_name",
       "a,b,\n1,2,3\n",
       {"fatal: line 1, field 3: empty column name in the header; every column needs a name"}},
      {"header_duplicate",
       "id,name,id\n",
       {"fatal: line 1: fields 1 and 3 of the header have the same name; column names must be "
        "unique"}},
      {"header_duplicate_after_unquoting",
       "\"a\",a\n",
       {"fatal: line 1: fields 1 and 2 of the header have the same name; column names must be "
        "unique"}},
      {"header_bare_quote", "a,b\"c\n", {"fatal: line 1, column 4" + kBareQuote}},
      // Limits.
      {"field_limit",
       "a,b\n1234,x\n12345,x\n\"12\"\"4\",x\n\"12345\",x\n1,2\n",
       {"header [a][b]", "2: [1234][x]",
        "error@1: line 3, field 1: longer than the limit of 4 bytes", "4: [12\"4][x]",
        "error@1: line 5, field 1: longer than the limit of 4 bytes", "6: [1][2]"},
       Limits(4, 100, 10)},
      {"field_limit_inside_unterminated_quote",
       "a\n\"123456789\n\n",
       {"header [a]", "fatal: line 2: a quoted field opened on this line is never closed"},
       Limits(4, 100, 10)},
      {"record_limit",
       "a,b\n123,456\n1234,567\n1,2\n",
       {"header [a][b]", "2: [123][456]",
        "error: line 3: the fields add up to more than the limit of 6 bytes", "4: [1][2]"},
       Limits(100, 6, 10)},
      {"header_field_limit",
       "a,b,c,d\n",
       {"fatal: line 1: the header has 4 fields, more than the limit of 3"},
       Limits(100, 100, 3)},
      {"row_over_field_limit_is_a_count_error",
       "a,b,c\n1,2,3,4,5\n",
       {"header [a][b][c]", "error: line 2: expected 3 fields (as in the header), found 5"},
       Limits(100, 100, 3)},
  };
  return *cases;
}

class CsvTableTest : public testing::TestWithParam<Case> {};

TEST_P(CsvTableTest, YieldsTheExpectedRecordsWithEveryChunkSize) {
  const Case& c = GetParam();
  std::vector<std::vector<std::string>> located;
  for (size_t chunk : {65536, 1, 2, 3, 7}) {
    SCOPED_TRACE("chunk size " + std::to_string(chunk));
    CsvOptions options = c.options;
    options.chunk_bytes = chunk;
    std::vector<Event> events = ReadAll(c.input, options, nullptr);
    EXPECT_THAT(Texts(events), ElementsAreArray(c.expected));
    located.push_back(Located(events));
    EXPECT_EQ(located.back(), located.front()) << "offsets and lines depend on the chunk size";
  }
}

TEST_P(CsvTableTest, ResumingAtEveryPositionYieldsTheSameRest) {
  const Case& c = GetParam();
  for (size_t chunk : {65536, 1, 3}) {
    CsvOptions options = c.options;
    options.chunk_bytes = chunk;
    std::vector<std::pair<size_t, CsvPosition>> positions;
    const std::vector<Event> all = ReadAll(c.input, options, &positions);
    for (const auto& [index, pos] : positions) {
      SCOPED_TRACE("chunk " + std::to_string(chunk) + ", resume at line " +
                   std::to_string(pos.line) + " offset " + std::to_string(pos.offset));
      auto reader = Open(c.input, options);
      ASSERT_TRUE(reader->ReadHeader().ok());
      ASSERT_TRUE(reader->SeekTo(pos).ok());
      EXPECT_EQ(reader->position(), pos);
      std::vector<Event> rest;
      ReadRecords(*reader, rest, nullptr);
      EXPECT_EQ(Located(rest), Located(all, index));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Csv, CsvTableTest, testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<Case>& p) { return p.param.name; });

TEST(CsvReaderTest, ErrorsNeverQuoteTheData) {
  const std::string pii = "Priya";
  for (const std::string& input : {
           "name,phone\n" + pii + "\"x,1\n",           // bare quote
           "name,phone\n\"" + pii + "\"x,1\n",         // text after closing quote
           "name,phone\n" + pii + "\n",                // field count
           "name,phone\n" + pii + "\xFF,1\n",          // UTF-8
           "name,phone\n" + pii + pii + pii + ",1\n",  // field limit
           "name,phone\n\"" + pii + "\n",              // never closed
           pii + "," + pii + "\n",                     // duplicate header
       }) {
    auto reader = Open(input, Limits(10, 100, 10));
    Status st = reader->ReadHeader();
    CsvRow row;
    if (st.ok()) {
      Result<bool> next = reader->Next(row);
      ASSERT_FALSE(next.ok()) << Escape(input);
      st = next.status();
    }
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(st.message(), Not(HasSubstr(pii))) << st.message();
    EXPECT_THAT(st.message(), Not(HasSubstr("Pri"))) << st.message();
  }
}

TEST(CsvReaderTest, OffsetsAndLinesOfRecords) {
  // Offsets are in the file, BOM included; lines are physical lines.
  const std::string input =
      "\xEF\xBB\xBF"
      "a,b\r\n1,2\r\n\r\n\"x\ny\",3\n4,5";
  auto reader = Open(input, {});
  ASSERT_TRUE(reader->ReadHeader().ok());
  EXPECT_EQ(reader->position(), (CsvPosition{8, 2}));
  CsvRow row;
  ASSERT_TRUE(*reader->Next(row));
  EXPECT_EQ(row.offset, 8u);
  EXPECT_EQ(row.line, 2u);
  EXPECT_EQ(reader->position(), (CsvPosition{13, 3}));  // the blank line is not skipped yet
  ASSERT_TRUE(*reader->Next(row));
  EXPECT_EQ(row.offset, 15u);
  EXPECT_EQ(row.line, 4u);
  EXPECT_THAT(row.fields, ElementsAreArray({"x\ny", "3"}));
  EXPECT_EQ(reader->offset(), 23u);
  ASSERT_TRUE(*reader->Next(row));
  EXPECT_EQ(row.offset, 23u);
  EXPECT_EQ(row.line, 6u);
  EXPECT_EQ(reader->position(), (CsvPosition{input.size(), 6}));
  EXPECT_FALSE(*reader->Next(row));
  EXPECT_FALSE(*reader->Next(row));  // the end stays the end
}

TEST(CsvReaderTest, ABadRecordSpansFromItsOffsetToThePosition) {
  const std::string input = "a,b\n1,2\n\"x\"y,\n3,4\n";
  auto reader = Open(input, {});
  ASSERT_TRUE(reader->ReadHeader().ok());
  CsvRow row;
  ASSERT_TRUE(*reader->Next(row));
  Result<bool> bad = reader->Next(row);
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(reader->failed());
  EXPECT_TRUE(row.fields.empty());
  EXPECT_EQ(input.substr(row.offset, reader->offset() - row.offset), "\"x\"y,\n");
  ASSERT_TRUE(*reader->Next(row));
  EXPECT_THAT(row.fields, ElementsAreArray({"3", "4"}));
}

TEST(CsvReaderTest, MisuseIsAFailedPrecondition) {
  auto reader = Open("a\n1\n", {});
  CsvRow row;
  EXPECT_EQ(reader->Next(row).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(reader->SeekTo({2, 2}).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(reader->ReadHeader().ok());
  EXPECT_EQ(reader->ReadHeader().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(reader->SeekTo({0, 1}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reader->SeekTo({1, 2}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(reader->SeekTo({2, 2}).ok());
  ASSERT_TRUE(*reader->Next(row));
  EXPECT_THAT(row.fields, ElementsAreArray({"1"}));

  auto empty = Open("", {});
  EXPECT_FALSE(empty->ReadHeader().ok());
  EXPECT_EQ(empty->Next(row).status().code(), StatusCode::kFailedPrecondition);
}

TEST(CsvReaderTest, SeekingBackClearsAFatalError) {
  auto reader = Open("a\n1\n\"2\n", {});
  ASSERT_TRUE(reader->ReadHeader().ok());
  const CsvPosition first = reader->position();
  CsvRow row;
  ASSERT_TRUE(*reader->Next(row));
  EXPECT_FALSE(reader->Next(row).ok());
  EXPECT_TRUE(reader->failed());
  ASSERT_TRUE(reader->SeekTo(first).ok());
  EXPECT_FALSE(reader->failed());
  ASSERT_TRUE(*reader->Next(row));
  EXPECT_EQ(row.line, 2u);
}

TEST(CsvReaderTest, OptionsMustBePositive) {
  for (int which = 0; which < 4; ++which) {
    CsvOptions o;
    (which == 0   ? o.chunk_bytes
     : which == 1 ? o.max_field_bytes
     : which == 2 ? o.max_record_bytes
                  : o.max_fields) = 0;
    auto r = CsvReader::Create(std::make_unique<StringSource>("a\n", 1), o);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(CsvReaderTest, ReadsAnIstream) {
  std::istringstream in("a,b\r\n1,\"2\r\n3\"\r\n");
  auto reader = CsvReader::Create(NewIstreamSource(in), {.chunk_bytes = 2});
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->ReadHeader().ok());
  const CsvPosition first = (*reader)->position();
  CsvRow row;
  ASSERT_TRUE(*(*reader)->Next(row));
  EXPECT_THAT(row.fields, ElementsAreArray({"1", "2\r\n3"}));
  EXPECT_FALSE(*(*reader)->Next(row));
  ASSERT_TRUE((*reader)->SeekTo(first).ok());  // after the end of the stream too
  ASSERT_TRUE(*(*reader)->Next(row));
  EXPECT_EQ(row.line, 2u);
}

TEST(CsvReaderTest, AStreamThatDidNotOpenIsUnavailableNotEmpty) {
  std::ifstream in("/nonexistent/custodian/file.csv");
  auto reader = CsvReader::Create(NewIstreamSource(in));
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->ReadHeader().code(), StatusCode::kUnavailable);
}

TEST(CsvReaderTest, ReadsAndSeeksAFileDescriptor) {
  char path[] = "/tmp/csv_reader_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  const std::string data = "id,name\n1,\"A, B\"\n2,C\n";
  ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
  {
    auto reader = CsvReader::Create(NewFdSource(fd), {.chunk_bytes = 5});
    ASSERT_TRUE(reader.ok());
    ASSERT_TRUE((*reader)->ReadHeader().ok());
    CsvRow row;
    ASSERT_TRUE(*(*reader)->Next(row));
    EXPECT_THAT(row.fields, ElementsAreArray({"1", "A, B"}));
    const CsvPosition second = (*reader)->position();
    ASSERT_TRUE(*(*reader)->Next(row));
    EXPECT_FALSE(*(*reader)->Next(row));
    ASSERT_TRUE((*reader)->SeekTo(second).ok());
    ASSERT_TRUE(*(*reader)->Next(row));
    EXPECT_THAT(row.fields, ElementsAreArray({"2", "C"}));
    EXPECT_EQ(row.line, 3u);
  }
  close(fd);
}

TEST(CsvReaderTest, APipeReadsButCannotSeek) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const std::string data = "a\n1\n";
  ASSERT_EQ(write(fds[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fds[1]);
  auto reader = CsvReader::Create(NewFdSource(fds[0]));
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->ReadHeader().ok());
  const CsvPosition first = (*reader)->position();
  CsvRow row;
  ASSERT_TRUE(*(*reader)->Next(row));
  EXPECT_EQ((*reader)->SeekTo(first).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*reader)->failed());
  close(fds[0]);
}

// 200,000 records, each over two physical lines, one in 1,000 with a field
// missing; read whole and resumed from the middle.
TEST(CsvReaderTest, LargeGeneratedInput) {
  constexpr int kRows = 200000;
  std::string data = "\xEF\xBB\xBFid,name,note,email\r\n";
  for (int i = 0; i < kRows; ++i) {
    const std::string n = std::to_string(i);
    if (i % 1000 == 999) {
      data += n + ",\"Name " + n + "\",\"missing\nemail\"\r\n";
    } else {
      data += n + ",\"Name, " + n + "\",\"said \"\"hi\"\"\nthen left\",u" + n + "@example.com\r\n";
    }
  }
  auto reader = Open(data, {});
  ASSERT_TRUE(reader->ReadHeader().ok());
  CsvRow row;
  int good = 0, bad = 0;
  CsvPosition middle;
  uint64_t last_line = 0;
  for (;;) {
    Result<bool> next = reader->Next(row);
    if (next.ok() && !*next) break;
    if (next.ok()) {
      ASSERT_EQ(row.fields.size(), 4u);
      ASSERT_EQ(row.fields[0], std::to_string(good + bad));
      ++good;
    } else {
      ASSERT_FALSE(reader->failed());
      ++bad;
    }
    ASSERT_EQ(row.line, 2u + 2u * static_cast<uint64_t>(good + bad - 1));
    last_line = row.line;
    if (good + bad == kRows / 2) middle = reader->position();
  }
  EXPECT_EQ(good, kRows - kRows / 1000);
  EXPECT_EQ(bad, kRows / 1000);
  EXPECT_EQ(last_line, 2u * kRows);
  EXPECT_EQ(reader->offset(), data.size());

  ASSERT_TRUE(reader->SeekTo(middle).ok());
  int rest = 0;
  for (;;) {
    Result<bool> next = reader->Next(row);
    if (next.ok() && !*next) break;
    if (next.ok() && rest == 0) {
      EXPECT_EQ(row.fields[0], std::to_string(kRows / 2));
    }
    ++rest;
  }
  EXPECT_EQ(rest, kRows / 2);
}

}  // namespace
}  // namespace custodian::import

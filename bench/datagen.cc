// custodian-datagen: deterministic synthetic customers and billing records for
// the import benchmark (bench/import_bench.sh). The same arguments always
// print the same bytes.
//
//   custodian-datagen subjects N [--seed S] [--malformed PERCENT] > customers.csv
//   custodian-datagen records N --subjects M [--seed S] [--malformed PERCENT] > billing.csv
//
// Subjects: 8 columns (customer_id, name, phone, email, national_id,
// date_of_birth, address, ip_address); Indian and Indonesian names, phones in
// the spellings agencies send ("088701 00100", "+91 88701-00100",
// "918870100100", "+62 812-3456-7890"), addresses with commas (quoted).
// Records: customer_id, at, amount, plan, invoice, for customers 1..M.
// About PERCENT (default 1) of rows are malformed the ways real exports are:
// a short phone, an email without '@', a day-first date, a byte that is not
// UTF-8, a missing column, an unknown customer.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

// SplitMix64: small, fast, and the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
  template <typename T, std::size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }

 private:
  uint64_t state_;
};

const char* const kIndianFirst[] = {"Asha",   "Rahul",  "Priya", "Arjun",  "Divya", "Vikram",
                                    "Lakshmi", "Sanjay", "Meera", "Karthik", "Ananya", "Rohan",
                                    "Sneha",  "Aditya", "Pooja", "Suresh", "Kavya", "Nikhil"};
const char* const kIndianLast[] = {"Rao",    "Sharma", "Iyer",   "Patel", "Nair",  "Reddy",
                                   "Gupta",  "Menon",  "Singh",  "Das",   "Pillai", "Joshi",
                                   "Kumar",  "Bose",   "Shetty", "Verma"};
const char* const kIndonesianFirst[] = {"Budi",  "Siti",  "Agus",   "Dewi",  "Putri", "Eko",
                                        "Rina",  "Wahyu", "Indah",  "Fajar", "Ayu",   "Bambang"};
const char* const kIndonesianLast[] = {"Santoso", "Wijaya", "Saputra", "Hidayat", "Lestari",
                                       "Pratama", "Kusuma", "Nugroho", "Siregar", "Gunawan"};
const char* const kStreets[] = {"MG Road", "Brigade Road", "Anna Salai", "Park Street",
                                "Jl. Sudirman", "Jl. Thamrin", "Jl. Gatot Subroto", "Linking Road"};
const char* const kCities[] = {"Bengaluru", "Chennai", "Kolkata", "Mumbai", "Jakarta",
                               "Surabaya", "Bandung", "Hyderabad"};
const char* const kDomains[] = {"example.in", "mail.example.com", "example.co.id", "isp.example"};
const char* const kPlans[] = {"50 Mbps", "100 Mbps", "200 Mbps", "1 Gbps"};

void Usage() {
  std::fprintf(stderr,
               "usage: custodian-datagen subjects N [--seed S] [--malformed PERCENT]\n"
               "       custodian-datagen records N --subjects M [--seed S] [--malformed PERCENT]\n");
}

bool ParseCount(const char* text, uint64_t* out) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0') return false;
  *out = v;
  return true;
}

// An Indian mobile number (10 digits, first 6-9) in one of the spellings
// agencies send, or an Indonesian one, always with its country code.
std::string Phone(Rng& rng, bool indonesian) {
  char digits[16];
  if (indonesian) {
    std::snprintf(digits, sizeof digits, "81%d%08llu", static_cast<int>(rng.Below(10)),
                  static_cast<unsigned long long>(rng.Below(100000000)));
    std::string d(digits);  // 11 digits: 81X XXXX XXXX
    if (rng.Below(2) == 0) return "+62 " + d.substr(0, 3) + "-" + d.substr(3, 4) + "-" + d.substr(7);
    return "+62" + d;
  }
  std::snprintf(digits, sizeof digits, "%d%09llu", 6 + static_cast<int>(rng.Below(4)),
                static_cast<unsigned long long>(rng.Below(1000000000)));
  std::string d(digits);  // 10 digits
  switch (rng.Below(4)) {
    case 0: return "0" + d.substr(0, 5) + " " + d.substr(5);
    case 1: return "+91 " + d.substr(0, 5) + "-" + d.substr(5);
    case 2: return "91" + d;
    default: return d;
  }
}

std::string Quoted(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

void Subjects(uint64_t n, uint64_t seed, uint64_t malformed_per_10k) {
  Rng rng(seed);
  std::string line;
  std::fputs("customer_id,name,phone,email,national_id,date_of_birth,address,ip_address\n", stdout);
  for (uint64_t i = 1; i <= n; ++i) {
    bool indonesian = rng.Below(4) == 0;
    std::string first = indonesian ? rng.Pick(kIndonesianFirst) : rng.Pick(kIndianFirst);
    std::string last = indonesian ? rng.Pick(kIndonesianLast) : rng.Pick(kIndianLast);
    std::string id = "CUST-" + std::to_string(i);
    std::string name = first + " " + last;
    std::string phone = Phone(rng, indonesian);
    std::string email = Lower(first) + "." + Lower(last) + std::to_string(i) + "@" +
                        rng.Pick(kDomains);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04llu%04llu%04llu",
                  static_cast<unsigned long long>(rng.Below(10000)),
                  static_cast<unsigned long long>(rng.Below(10000)),
                  static_cast<unsigned long long>(rng.Below(10000)));
    std::string national_id = buf;
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", 1950 + static_cast<int>(rng.Below(55)),
                  1 + static_cast<int>(rng.Below(12)), 1 + static_cast<int>(rng.Below(28)));
    std::string dob = buf;
    std::string address = std::to_string(1 + rng.Below(400)) + ", " + rng.Pick(kStreets) + ", " +
                          rng.Pick(kCities);
    std::snprintf(buf, sizeof buf, "10.%d.%d.%d", static_cast<int>(rng.Below(256)),
                  static_cast<int>(rng.Below(256)), static_cast<int>(1 + rng.Below(254)));
    std::string ip = buf;
    bool drop_column = false;
    if (rng.Below(10000) < malformed_per_10k) {
      switch (rng.Below(5)) {
        case 0: phone = "12345"; break;
        case 1: email = Lower(first) + "." + Lower(last) + ".example.in"; break;
        case 2: dob = dob.substr(8, 2) + "/" + dob.substr(5, 2) + "/" + dob.substr(0, 4); break;
        case 3: name += "\xff"; break;
        default: drop_column = true; break;
      }
    }
    line.clear();
    line += id + "," + Quoted(name) + "," + Quoted(phone) + "," + Quoted(email) + "," +
            national_id + "," + dob + "," + Quoted(address);
    if (!drop_column) line += "," + ip;
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
}

void Records(uint64_t n, uint64_t subjects, uint64_t seed, uint64_t malformed_per_10k) {
  Rng rng(seed ^ 0x5EC0D5ull);
  std::string line;
  std::fputs("customer_id,at,amount,plan,invoice\n", stdout);
  for (uint64_t i = 1; i <= n; ++i) {
    uint64_t customer = 1 + rng.Below(subjects);
    char at[32];
    std::snprintf(at, sizeof at, "%04d-%02d-%02d", 2023 + static_cast<int>(rng.Below(3)),
                  1 + static_cast<int>(rng.Below(12)), 1 + static_cast<int>(rng.Below(28)));
    std::string when = at;
    std::string id = "CUST-" + std::to_string(customer);
    if (rng.Below(10000) < malformed_per_10k) {
      if (rng.Below(2) == 0) {
        when = when.substr(8, 2) + "/" + when.substr(5, 2) + "/" + when.substr(0, 4);
      } else {
        id = "CUST-" + std::to_string(subjects + 1 + rng.Below(1000));  // nobody
      }
    }
    char rest[96];
    std::snprintf(rest, sizeof rest, ",%llu,%s,INV-%llu\n",
                  static_cast<unsigned long long>(299 + rng.Below(2000)), rng.Pick(kPlans),
                  static_cast<unsigned long long>(i));
    line.clear();
    line += id + "," + when + rest;
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    Usage();
    return 2;
  }
  std::string_view what = argv[1];
  uint64_t n = 0, seed = 20260101, subjects = 0, malformed_percent = 1;
  if (!ParseCount(argv[2], &n)) {
    Usage();
    return 2;
  }
  for (int i = 3; i < argc; ++i) {
    std::string_view flag = argv[i];
    uint64_t* target = flag == "--seed"        ? &seed
                       : flag == "--subjects"  ? &subjects
                       : flag == "--malformed" ? &malformed_percent
                                               : nullptr;
    if (target == nullptr || i + 1 >= argc || !ParseCount(argv[i + 1], target)) {
      Usage();
      return 2;
    }
    ++i;
  }
  if (malformed_percent > 100) {
    Usage();
    return 2;
  }
  static char buffer[1 << 20];
  std::setvbuf(stdout, buffer, _IOFBF, sizeof buffer);
  if (what == "subjects") {
    Subjects(n, seed, malformed_percent * 100);
  } else if (what == "records" && subjects > 0) {
    Records(n, subjects, seed, malformed_percent * 100);
  } else {
    Usage();
    return 2;
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

// custodian-pg-baseline: the lookup service a team would build without
// custodian, for the HTTP benchmark (bench/pg_baseline.sh). PostgreSQL holds
// the customers with pgcrypto-encrypted columns and an HMAC-SHA256 of the
// E.164 phone as the index; a Boost.Beast server answers lookups by phone.
//
//   custodian-pg-baseline load CSV > rows.copy      # datagen CSV -> COPY text
//   custodian-pg-baseline serve [--listen 127.0.0.1:8090] [--threads N]
//                               [--conninfo "host=... dbname=..."] [--region IN]
//
// Secrets come from the environment, never from arguments: PG_BASELINE_INDEX_KEY
// (64 hex digits, the HMAC key; load and serve), PG_BASELINE_DATA_KEY (the
// pgcrypto passphrase; serve) and PG_BASELINE_TOKEN (the bearer token; serve).
//
// load: reads custodian-datagen's customers, rejects the rows custodian's
// import rejects (wrong column count, invalid UTF-8, a phone, email or date
// that does not normalize) and prints customer_id, name, phone (E.164), email
// and the phone's HMAC in hex as COPY text, for encryption in SQL.
//
// serve: POST /v1/subjects/lookup {"phone": "..."} with "Authorization: Bearer
// TOKEN". Per request: normalize the phone (region IN, as the policy), HMAC it,
// and run one prepared statement that selects the customers with that HMAC,
// decrypts name, phone and email with pgp_sym_decrypt, and inserts an
// access_log row per hit (synchronous_commit on: the row is durable before the
// answer). One libpq connection per server thread; handlers block on it.
#include <libpq-fe.h>
#include <sodium.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "crypto/normalize.h"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using custodian::crypto::NormalizePhone;

constexpr const char* kLookupSql =
    "WITH hit AS ("
    "  SELECT id, pgp_sym_decrypt(name, $2) AS name, pgp_sym_decrypt(phone, $2) AS phone,"
    "         pgp_sym_decrypt(email, $2) AS email"
    "  FROM customers WHERE phone_hmac = $1),"
    " log AS (INSERT INTO access_log (actor, purpose, customer_id)"
    "         SELECT $3, $4, id FROM hit)"
    " SELECT id, name, phone, email FROM hit";

struct Config {
  std::string region = "IN";
  std::string conninfo = "host=127.0.0.1 port=15432 dbname=postgres";
  std::string data_key;
  std::string token;
  unsigned char index_key[crypto_auth_hmacsha256_KEYBYTES];
};

bool IndexKeyFromEnv(Config& cfg) {
  const char* hex = std::getenv("PG_BASELINE_INDEX_KEY");
  size_t n = 0;
  if (hex == nullptr || sodium_hex2bin(cfg.index_key, sizeof cfg.index_key, hex, std::strlen(hex),
                                       nullptr, &n, nullptr) != 0 ||
      n != sizeof cfg.index_key) {
    std::fprintf(stderr, "PG_BASELINE_INDEX_KEY must be %zu bytes in hex\n", sizeof cfg.index_key);
    return false;
  }
  return true;
}

std::string PhoneHmac(const Config& cfg, std::string_view e164) {
  std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256(reinterpret_cast<unsigned char*>(mac.data()),
                         reinterpret_cast<const unsigned char*>(e164.data()), e164.size(),
                         cfg.index_key);
  return mac;
}

// --- load --------------------------------------------------------------------

// One RFC 4180 record ("" inside quotes, CRLF or LF); false at the end.
bool ReadRecord(FILE* in, std::vector<std::string>& fields) {
  fields.assign(1, std::string());
  bool quoted = false, any = false;
  for (int c; (c = getc_unlocked(in)) != EOF;) {
    any = true;
    if (quoted) {
      if (c != '"') {
        fields.back() += static_cast<char>(c);
      } else if (int next = getc_unlocked(in); next == '"') {
        fields.back() += '"';
      } else {
        quoted = false;
        if (next != EOF) ungetc(next, in);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c == '\n') {
      if (!fields.back().empty() && fields.back().back() == '\r') fields.back().pop_back();
      return true;
    } else {
      fields.back() += static_cast<char>(c);
    }
  }
  return any;
}

void CopyField(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
}

int Load(const Config& cfg, const char* path) {
  namespace crypto = custodian::crypto;
  FILE* in = std::strcmp(path, "-") == 0 ? stdin : std::fopen(path, "rb");
  if (in == nullptr) {
    std::perror(path);
    return 1;
  }
  std::vector<std::string> f;
  ReadRecord(in, f);  // header: customer_id,name,phone,email,national_id,date_of_birth,...
  size_t loaded = 0, rejected = 0;
  std::string line;
  while (ReadRecord(in, f)) {
    bool ok = f.size() == 8;
    for (size_t i = 0; ok && i < f.size(); ++i) ok = crypto::ValidateUtf8(f[i]).ok();
    auto phone = NormalizePhone(ok ? f[2] : "", cfg.region);
    if (!ok || !phone.ok() || !crypto::NormalizeEmail(f[3]).ok() ||
        !crypto::NormalizeDate(f[5]).ok()) {
      ++rejected;
      continue;
    }
    std::string mac = PhoneHmac(cfg, *phone);
    char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
    line.clear();
    for (std::string_view v : {std::string_view(f[0]), std::string_view(f[1]),
                               std::string_view(*phone), std::string_view(f[3])}) {
      CopyField(line, v);
      line += '\t';
    }
    line += hex;
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
    ++loaded;
  }
  if (in != stdin) std::fclose(in);
  std::fprintf(stderr, "load: %zu rows, %zu rejected\n", loaded, rejected);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

// --- serve -------------------------------------------------------------------

// This thread's connection, with the lookup prepared.
thread_local PGconn* db = nullptr;

bool Connect(const Config& cfg) {
  db = PQconnectdb(cfg.conninfo.c_str());
  if (PQstatus(db) != CONNECTION_OK) {
    std::fprintf(stderr, "postgres: %s", PQerrorMessage(db));
    return false;
  }
  PGresult* r = PQprepare(db, "lookup", kLookupSql, 4, nullptr);
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok) std::fprintf(stderr, "prepare: %s", PQerrorMessage(db));
  PQclear(r);
  return ok;
}

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

Response Answer(const Request& req, bhttp::status status, std::string body) {
  Response res{status, req.version()};
  res.set(bhttp::field::content_type, "application/json");
  if (status == bhttp::status::unauthorized) res.set(bhttp::field::www_authenticate, "Bearer");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response Error(const Request& req, bhttp::status status, std::string_view detail) {
  return Answer(req, status, nlohmann::json{{"error", detail}}.dump());
}

bool Authorized(const Config& cfg, const Request& req) {
  auto header = req[bhttp::field::authorization];
  std::string_view got(header.data(), header.size());
  constexpr std::string_view kBearer = "Bearer ";
  if (!got.starts_with(kBearer)) return false;
  got.remove_prefix(kBearer.size());
  return got.size() == cfg.token.size() &&
         sodium_memcmp(got.data(), cfg.token.data(), got.size()) == 0;
}

// The value of `name` in the target's query string, as sent (not decoded).
std::string QueryParam(std::string_view target, std::string_view name) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  for (std::string_view query = target.substr(q + 1); !query.empty();) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

Response Lookup(const Config& cfg, const Request& req) {
  std::string_view target(req.target().data(), req.target().size());
  if (target.substr(0, target.find('?')) != "/v1/subjects/lookup") {
    return Error(req, bhttp::status::not_found, "no such route");
  }
  if (req.method() != bhttp::verb::post) {
    return Error(req, bhttp::status::method_not_allowed, "use POST");
  }
  if (!Authorized(cfg, req)) return Error(req, bhttp::status::unauthorized, "bearer token needed");
  auto body = nlohmann::json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("phone") || !body["phone"].is_string()) {
    return Error(req, bhttp::status::bad_request, "expected {\"phone\": \"...\"}");
  }
  auto e164 = NormalizePhone(body["phone"].get_ref<const std::string&>(), cfg.region);
  if (!e164.ok()) return Error(req, bhttp::status::bad_request, "not a valid phone number");
  std::string purpose = QueryParam(target, "purpose");
  if (purpose.empty()) purpose = "essential.service";

  std::string mac = PhoneHmac(cfg, *e164);
  const char* values[] = {mac.data(), cfg.data_key.c_str(), "pg-baseline", purpose.c_str()};
  const int lengths[] = {static_cast<int>(mac.size()), 0, 0, 0};
  const int formats[] = {1, 0, 0, 0};  // the HMAC as binary bytea
  PGresult* r = PQexecPrepared(db, "lookup", 4, values, lengths, formats, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    std::fprintf(stderr, "lookup: %s", PQerrorMessage(db));
    PQclear(r);
    if (PQstatus(db) == CONNECTION_BAD) PQreset(db);
    return Error(req, bhttp::status::internal_server_error, "database error");
  }
  nlohmann::json subjects = nlohmann::json::array();
  for (int i = 0; i < PQntuples(r); ++i) {
    subjects.push_back({{"id", std::strtoll(PQgetvalue(r, i, 0), nullptr, 10)},
                        {"name", PQgetvalue(r, i, 1)},
                        {"phone", PQgetvalue(r, i, 2)},
                        {"email", PQgetvalue(r, i, 3)}});
  }
  PQclear(r);
  return Answer(req, bhttp::status::ok, nlohmann::json{{"subjects", subjects}}.dump());
}

// One keep-alive connection: read, answer, repeat.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(const Config& cfg, tcp::socket&& socket) : cfg_(cfg), stream_(std::move(socket)) {}

  void Read() {
    parser_.emplace();
    parser_->body_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(60));
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

 private:
  void OnRead(beast::error_code ec, size_t) {
    if (ec) return Close();
    Request req = parser_->release();
    res_ = Lookup(cfg_, req);
    bhttp::async_write(stream_, res_,
                       beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t) {
    if (ec || !res_.keep_alive()) return Close();
    Read();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  const Config& cfg_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Response res_;
};

void Accept(const Config& cfg, tcp::acceptor& acceptor) {
  acceptor.async_accept([&cfg, &acceptor](beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(cfg, std::move(socket))->Read();
    }
    Accept(cfg, acceptor);
  });
}

int Serve(const Config& cfg, const std::string& listen, int threads) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "--listen HOST:PORT\n");
    return 2;
  }
  net::io_context ioc(threads);
  tcp::endpoint ep(net::ip::make_address(listen.substr(0, colon)),
                   static_cast<unsigned short>(std::stoi(listen.substr(colon + 1))));
  tcp::acceptor acceptor(ioc, ep, /*reuse_addr=*/true);
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&ioc](beast::error_code, int) { ioc.stop(); });
  Accept(cfg, acceptor);

  std::vector<std::thread> pool;
  std::vector<int> failed(threads, 0);
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      if (!Connect(cfg)) {
        failed[i] = 1;
        ioc.stop();
      } else {
        ioc.run();
      }
      PQfinish(db);
    });
  }
  std::fprintf(stderr, "serving on %s with %d threads\n", listen.c_str(), threads);
  for (auto& t : pool) t.join();
  for (int f : failed) {
    if (f) return 1;
  }
  return 0;
}

int Usage() {
  std::fprintf(stderr,
               "usage: custodian-pg-baseline load CSV > rows.copy\n"
               "       custodian-pg-baseline serve [--listen HOST:PORT] [--threads N]\n"
               "                                   [--conninfo CONNINFO] [--region CC]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || sodium_init() < 0) return Usage();
  Config cfg;
  if (!IndexKeyFromEnv(cfg)) return 2;
  std::string_view cmd = argv[1];
  if (cmd == "load") return argc == 3 ? Load(cfg, argv[2]) : Usage();
  if (cmd != "serve") return Usage();

  std::string listen = "127.0.0.1:8090";
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string_view opt = argv[i];
    if (opt == "--listen") {
      listen = argv[i + 1];
    } else if (opt == "--threads") {
      threads = std::max(1, std::atoi(argv[i + 1]));
    } else if (opt == "--conninfo") {
      cfg.conninfo = argv[i + 1];
    } else if (opt == "--region") {
      cfg.region = argv[i + 1];
    } else {
      return Usage();
    }
  }
  if (argc % 2 != 0) return Usage();
  const char* data_key = std::getenv("PG_BASELINE_DATA_KEY");
  const char* token = std::getenv("PG_BASELINE_TOKEN");
  if (data_key == nullptr || *data_key == '\0' || token == nullptr || *token == '\0') {
    std::fprintf(stderr, "PG_BASELINE_DATA_KEY and PG_BASELINE_TOKEN must be set\n");
    return 2;
  }
  cfg.data_key = data_key;
  cfg.token = token;
  return Serve(cfg, listen, threads);
}

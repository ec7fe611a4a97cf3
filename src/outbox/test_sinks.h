// Test sinks for the outbox transports: a tiny HTTP/1.1 server standing in
// for Telnyx and a tiny SMTP server, each on 127.0.0.1 and a port the kernel
// picks, on its own thread, serving one connection at a time. They record
// what they receive and answer from a script, for tests in this layer and
// others (include only from tests).
//
//   HttpSink sink({HttpReply{503}, HttpReply{200, R"({"data":{"id":"tlx-1"}})"}});
//   ... NewTelnyxTransport({.base_url = sink.url(), ...}) ...
//   sink.requests()  // method, target, headers, body of each request
//
// Robustness: every read polls in 50 ms slices, so Stop() (and the
// destructor) returns promptly even while a client holds a connection open;
// a connection idle for 10 s is dropped. A sink failing to listen throws
// std::runtime_error from its constructor.
// Thread-safety: the accessors and Fail*/Stop may be called from any thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace custodian::outbox::testing {
namespace sink_internal {

// One accepted connection: buffered reads that give up on stop, EOF or idleness.
class Connection {
 public:
  Connection(int fd, const std::atomic<bool>& stop) : fd_(fd), stop_(stop) {}
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Through the next '\n' (kept); false when the connection ends first.
  bool ReadLine(std::string& line) {
    size_t nl;
    while ((nl = buffer_.find('\n')) == std::string::npos) {
      if (!Fill()) return false;
    }
    line = buffer_.substr(0, nl + 1);
    buffer_.erase(0, nl + 1);
    return true;
  }
  bool ReadExact(size_t n, std::string& out) {
    while (buffer_.size() < n) {
      if (!Fill()) return false;
    }
    out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return true;
  }
  bool Write(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Holds the connection open, answering nothing, until the peer or Stop ends it.
  void WaitForClose() {
    while (Fill()) buffer_.clear();
  }

 private:
  bool Fill() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!stop_.load()) {
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, 50);
      if (ready < 0) return false;
      if (ready == 0) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        continue;
      }
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    return false;
  }

  int fd_;
  const std::atomic<bool>& stop_;
  std::string buffer_;
};

// A listening socket on 127.0.0.1:0 and the thread that serves it.
class Listener {
 public:
  explicit Listener(std::function<void(Connection&)> serve) : serve_(std::move(serve)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(fd_, 16) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len)) {
      if (fd_ >= 0) ::close(fd_);
      throw std::runtime_error("test sink: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~Listener() { Stop(); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  void Run() {
    while (!stop_.load()) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      connections_.fetch_add(1);
      Connection connection(client, stop_);
      serve_(connection);
    }
  }

  std::function<void(Connection&)> serve_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

inline std::string TrimLineEnd(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

inline std::string Upper(std::string s) {
  for (char& c : s) c = (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
  return s;
}

}  // namespace sink_internal

// ---------------------------------------------------------------------------
struct HttpRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header of that name (case-insensitive), or "".
  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (sink_internal::Upper(k) == sink_internal::Upper(std::string(name))) return v;
    }
    return "";
  }
};

struct HttpReply {
  enum class Kind { kAnswer, kClose, kHang };
  int status = 200;
  std::string body;
  Kind kind = Kind::kAnswer;

  static HttpReply Close() { return {0, "", Kind::kClose}; }  // close without answering
  static HttpReply Hang() { return {0, "", Kind::kHang}; }    // never answer
};

// Answers request i with script[i]; past the end, with the last entry again
// (an empty script: 200 "{}"). Reads Content-Length bodies only (no chunked
// requests) and closes the connection after each reply.
class HttpSink {
 public:
  explicit HttpSink(std::vector<HttpReply> script = {})
      : script_(std::move(script)), listener_([this](auto& c) { Serve(c); }) {}

  std::string url() const { return "http://127.0.0.1:" + std::to_string(listener_.port()); }
  uint16_t port() const { return listener_.port(); }
  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  void Stop() { listener_.Stop(); }

 private:
  void Serve(sink_internal::Connection& c) {
    HttpRequest request;
    std::string line;
    if (!c.ReadLine(line)) return;
    line = sink_internal::TrimLineEnd(line);
    size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (sp1 == std::string::npos || sp2 <= sp1) return;
    request.method = line.substr(0, sp1);
    request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t content_length = 0;
    while (c.ReadLine(line) && !(line = sink_internal::TrimLineEnd(line)).empty()) {
      size_t colon = line.find(':');
      if (colon == std::string::npos) return;
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      request.headers.emplace_back(line.substr(0, colon), value);
      if (sink_internal::Upper(line.substr(0, colon)) == "CONTENT-LENGTH") {
        content_length = std::stoul(value);
      }
    }
    if (content_length > 0 && !c.ReadExact(content_length, request.body)) return;
    HttpReply reply;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      if (!script_.empty())
        reply = script_[std::min(requests_.size(), script_.size()) - 1];
      else
        reply.body = "{}";
    }
    if (reply.kind == HttpReply::Kind::kClose) return;
    if (reply.kind == HttpReply::Kind::kHang) return c.WaitForClose();
    c.Write("HTTP/1.1 " + std::to_string(reply.status) + " Scripted\r\n" +
            "Content-Type: application/json\r\nContent-Length: " +
            std::to_string(reply.body.size()) + "\r\nConnection: close\r\n\r\n" + reply.body);
  }

  mutable std::mutex mu_;
  std::vector<HttpReply> script_;
  std::vector<HttpRequest> requests_;
  sink_internal::Listener listener_;  // last: its thread uses the members above
};

// ---------------------------------------------------------------------------
struct SmtpSession {
  std::string helo;                  // the EHLO/HELO argument
  std::string mail_from;             // the MAIL FROM argument, e.g. "<a@b>"
  std::vector<std::string> rcpt_to;  // accepted RCPT TO arguments
  std::string data;                  // the message, un-stuffed, CRLFs kept, without ".\r\n"
  bool data_complete = false;        // the final "." arrived (and got its reply)
};

// Answers 220, EHLO/HELO 250, MAIL/RCPT 250, DATA 354 and after the final
// "." 250, RSET/NOOP 250, QUIT 221, anything else 502. Fail("RCPT", 451)
// makes every later RCPT get 451 instead ("MAIL", "RCPT", "DATA", and "END"
// for the reply after the final "."); a refused RCPT is not recorded.
class SmtpSink {
 public:
  SmtpSink() : listener_([this](auto& c) { Serve(c); }) {}

  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(listener_.port()); }
  uint16_t port() const { return listener_.port(); }
  int connections() const { return listener_.connections(); }
  std::vector<SmtpSession> sessions() const {
    std::lock_guard lock(mu_);
    return sessions_;
  }
  void Fail(const std::string& verb, int code) {
    std::lock_guard lock(mu_);
    failures_[verb] = code;
  }
  void Stop() { listener_.Stop(); }

 private:
  // The scripted failure reply for `verb`, or `ok`.
  std::string Reply(const std::string& verb, const std::string& ok) {
    auto it = failures_.find(verb);
    if (it == failures_.end()) return ok;
    return std::to_string(it->second) + (it->second < 500 ? " 4.3.0 scripted" : " 5.1.1 scripted") +
           "\r\n";
  }

  void Serve(sink_internal::Connection& c) {
    size_t index;
    {
      std::lock_guard lock(mu_);
      index = sessions_.size();
      sessions_.emplace_back();
    }
    if (!c.Write("220 sink ESMTP\r\n")) return;
    std::string line;
    while (c.ReadLine(line)) {
      std::string command = sink_internal::TrimLineEnd(line);
      std::string verb = sink_internal::Upper(command.substr(0, command.find(' ')));
      std::string arg =
          command.find(':') != std::string::npos
              ? command.substr(command.find(':') + 1)
              : (command.find(' ') != std::string::npos ? command.substr(command.find(' ') + 1)
                                                        : "");
      std::string reply;
      std::unique_lock lock(mu_);
      SmtpSession& s = sessions_[index];
      if (verb == "EHLO") {
        s.helo = arg;
        reply = "250-sink\r\n250 8BITMIME\r\n";
      } else if (verb == "HELO") {
        s.helo = arg;
        reply = "250 sink\r\n";
      } else if (verb == "MAIL") {
        reply = Reply("MAIL", "250 2.1.0 ok\r\n");
        if (reply[0] == '2') s.mail_from = arg.substr(0, arg.find(' '));
      } else if (verb == "RCPT") {
        reply = Reply("RCPT", "250 2.1.5 ok\r\n");
        if (reply[0] == '2') s.rcpt_to.push_back(arg);
      } else if (verb == "DATA") {
        reply = Reply("DATA", "354 end with <CRLF>.<CRLF>\r\n");
        if (reply[0] == '3') {
          lock.unlock();
          if (!c.Write(reply)) return;
          std::string data;
          while (true) {
            if (!c.ReadLine(line)) return;
            if (line == ".\r\n") break;
            data += line[0] == '.' ? line.substr(1) : line;  // un-stuff
          }
          lock.lock();
          sessions_[index].data = std::move(data);
          sessions_[index].data_complete = true;
          reply = Reply("END", "250 2.0.0 queued\r\n");
        }
      } else if (verb == "RSET" || verb == "NOOP") {
        reply = "250 ok\r\n";
      } else if (verb == "QUIT") {
        lock.unlock();
        c.Write("221 bye\r\n");
        return;
      } else {
        reply = "502 5.5.2 not implemented\r\n";
      }
      lock.unlock();
      if (!c.Write(reply)) return;
    }
  }

  mutable std::mutex mu_;
  std::map<std::string, int> failures_;
  std::vector<SmtpSession> sessions_;
  sink_internal::Listener listener_;  // last: its thread uses the members above
};

}  // namespace custodian::outbox::testing

#include "http/message.h"

namespace custodian::http {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::optional<std::string_view> Find(const Params& params, std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::PathParam(std::string_view name) const {
  return Find(path_params, name);
}

std::optional<std::string_view> Request::QueryParam(std::string_view name) const {
  return Find(query_params, name);
}

void Deferred::Complete(Make make) {
  std::function<void(Make)> send;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!send_) {
      ready_ = std::move(make);
      return;
    }
    send = std::move(send_);
  }
  send(std::move(make));
}

void Deferred::OnReady(std::function<void(Make)> send) {
  Make ready;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!ready_) {
      send_ = std::move(send);
      return;
    }
    ready = std::move(ready_);
  }
  send(std::move(ready));
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

}  // namespace custodian::http

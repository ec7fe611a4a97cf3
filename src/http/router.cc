#include "http/router.h"

#include <algorithm>
#include <optional>

namespace custodian::http {
namespace {

bool IsParamName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsMethod(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// "/a/b" -> {"a", "b"}; "/" -> {""}. `s` starts with '/'.
std::vector<std::string_view> SplitPath(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 1;
  while (true) {
    size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

bool SameShape(const Route& a, const std::vector<Route::Segment>& b) {
  if (a.segments.size() != b.size()) return false;
  for (size_t i = 0; i < b.size(); ++i) {
    if (a.segments[i].param != b[i].param) return false;
    if (!b[i].param && a.segments[i].text != b[i].text) return false;
  }
  return true;
}

bool Matches(const Route& r, const std::vector<std::string>& segments) {
  if (r.segments.size() != segments.size()) return false;
  for (size_t i = 0; i < segments.size(); ++i) {
    const Route::Segment& s = r.segments[i];
    if (s.param ? segments[i].empty() : s.text != segments[i]) return false;
  }
  return true;
}

// True if `a` is more specific than `b` (both match the same path).
bool MoreSpecific(const Route& a, const Route& b) {
  for (size_t i = 0; i < a.segments.size(); ++i) {
    if (a.segments[i].param != b.segments[i].param) return !a.segments[i].param;
  }
  return false;
}

}  // namespace

Status Router::Add(std::string_view method, std::string_view pattern, std::string route_name,
                   Handler handler, RouteOptions options) {
  if (!IsMethod(method)) {
    return Status::InvalidArgument("route method must be an upper-case token, got '" +
                                   std::string(method) + "'");
  }
  if (pattern.empty() || pattern[0] != '/') {
    return Status::InvalidArgument("route pattern must start with '/': '" + std::string(pattern) +
                                   "'");
  }
  if (route_name.empty()) return Status::InvalidArgument("route name must not be empty");
  if (!handler) return Status::InvalidArgument("route '" + route_name + "' has no handler");
  std::vector<Route::Segment> segments;
  for (std::string_view seg : SplitPath(pattern)) {
    if (!seg.empty() && seg.front() == '{') {
      if (seg.back() != '}' || !IsParamName(seg.substr(1, seg.size() - 2))) {
        return Status::InvalidArgument("route pattern '" + std::string(pattern) +
                                       "': a parameter is {name} with name [A-Za-z_][A-Za-z0-9_]*");
      }
      std::string name(seg.substr(1, seg.size() - 2));
      for (const auto& s : segments) {
        if (s.param && s.text == name) {
          return Status::InvalidArgument("route pattern '" + std::string(pattern) +
                                         "' repeats parameter {" + name + "}");
        }
      }
      segments.push_back({true, std::move(name)});
    } else {
      if (seg.find_first_of("{}%") != std::string_view::npos) {
        return Status::InvalidArgument("route pattern '" + std::string(pattern) +
                                       "': a literal segment holds '{', '}' or '%'");
      }
      segments.push_back({false, std::string(seg)});
    }
  }
  for (const auto& r : routes_) {
    if (r->method == method && SameShape(*r, segments)) {
      return Status::AlreadyExists("route " + std::string(method) + " " + std::string(pattern) +
                                   " is already registered as " + r->pattern);
    }
  }
  auto route = std::make_unique<Route>();
  route->method = std::string(method);
  route->pattern = std::string(pattern);
  route->name = std::move(route_name);
  route->handler = std::move(handler);
  route->options = std::move(options);
  route->segments = std::move(segments);
  routes_.push_back(std::move(route));
  return Status::Ok();
}

RouteMatch Router::Match(std::string_view method, std::string_view path) const {
  RouteMatch m;
  if (path.empty() || path[0] != '/') {
    m.kind = RouteMatch::Kind::kBadPath;
    m.error = Status::InvalidArgument("the request target must be an absolute path");
    return m;
  }
  std::vector<std::string> segments;
  for (std::string_view raw : SplitPath(path)) {
    auto decoded = PercentDecode(raw, /*plus_as_space=*/false);
    if (!decoded.ok()) {
      m.kind = RouteMatch::Kind::kBadPath;
      m.error = decoded.status().WithContext("path");
      return m;
    }
    segments.push_back(std::move(decoded).value());
  }
  const Route* best = nullptr;
  const Route* any = nullptr;  // most specific route for the path, any method
  std::vector<std::string_view> allowed;
  for (const auto& r : routes_) {
    if (!Matches(*r, segments)) continue;
    if (any == nullptr || MoreSpecific(*r, *any)) any = r.get();
    if (r->method == method) {
      if (best == nullptr || MoreSpecific(*r, *best)) best = r.get();
    }
  }
  if (best != nullptr) {
    m.kind = RouteMatch::Kind::kFound;
    m.route = best;
    for (size_t i = 0; i < segments.size(); ++i) {
      if (best->segments[i].param) m.params.emplace_back(best->segments[i].text, segments[i]);
    }
    return m;
  }
  if (any == nullptr) {
    m.kind = RouteMatch::Kind::kNotFound;
    return m;
  }
  // 405: the methods of the routes that would have served this path.
  for (const auto& r : routes_) {
    if (Matches(*r, segments) &&
        std::find(allowed.begin(), allowed.end(), r->method) == allowed.end()) {
      allowed.push_back(r->method);
    }
  }
  std::sort(allowed.begin(), allowed.end());
  m.kind = RouteMatch::Kind::kMethodNotAllowed;
  m.pattern = any->pattern;
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0) m.allow += ", ";
    m.allow += allowed[i];
  }
  return m;
}

std::vector<const Route*> Router::routes() const {
  std::vector<const Route*> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back(r.get());
  return out;
}

}  // namespace custodian::http

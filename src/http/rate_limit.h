// A request rate limit per API key: a token bucket for each key that has
// been used, refilled at `per_second` up to `burst` requests.
//
// The HTTP API applies it once a bearer key has authenticated (http/api.cc),
// so only real keys get a bucket: the map is bounded by the tenants' keys.
// A key over its limit is answered 429 with Retry-After, without reaching
// the service. Thread-safety: Take may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace custodian::http {

class KeyRateLimiter {
 public:
  // `per_second` > 0; `burst` >= 1 (the requests a key may send at once
  // after being idle).
  KeyRateLimiter(double per_second, double burst);

  // Takes one request for `key` at `now` (any monotonic clock): zero if it
  // may go ahead, else how long until it could (nothing is taken then).
  std::chrono::milliseconds Take(std::string_view key, std::chrono::steady_clock::time_point now);

  double per_second() const { return per_second_; }
  double burst() const { return burst_; }  // at least 1

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;
  };
  const double per_second_;
  const double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace custodian::http

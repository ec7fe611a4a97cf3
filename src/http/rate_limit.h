// A request rate limit per API key: a token bucket for each key that has
// been used, refilled at `per_second` up to `burst` requests: the key's own
// rate when it has one (Vault::CreateApiKey's limit), else the server's.
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

struct KeyRate {
  double per_second = 0;  // > 0
  double burst = 1;       // the requests a key may send at once after idle; under 1: 1
};

class KeyRateLimiter {
 public:
  // The server's rate, for keys without their own: `per_second` 0 leaves
  // them unlimited; `burst` >= 1.
  KeyRateLimiter(double per_second, double burst);

  // Takes one request for `key` at `now` (any monotonic clock) at `rate`:
  // zero if it may go ahead, else how long until it could (nothing is taken
  // then). Always zero for a rate of 0 requests a second (no limit).
  std::chrono::milliseconds Take(std::string_view key, std::chrono::steady_clock::time_point now,
                                 const KeyRate& rate);
  // The same at the server's rate.
  std::chrono::milliseconds Take(std::string_view key, std::chrono::steady_clock::time_point now) {
    return Take(key, now, server_rate());
  }

  KeyRate server_rate() const { return KeyRate{per_second_, burst_}; }  // burst at least 1

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

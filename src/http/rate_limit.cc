#include "http/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace custodian::http {

KeyRateLimiter::KeyRateLimiter(double per_second, double burst)
    : per_second_(per_second), burst_(std::max(1.0, burst)) {}

std::chrono::milliseconds KeyRateLimiter::Take(std::string_view key,
                                               std::chrono::steady_clock::time_point now,
                                               const KeyRate& rate) {
  if (!(rate.per_second > 0)) return std::chrono::milliseconds(0);
  const double burst = std::max(1.0, rate.burst);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) it = buckets_.emplace(std::string(key), Bucket{burst, now}).first;
  Bucket& b = it->second;
  if (now > b.at) {
    const double elapsed = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(burst, b.tokens + elapsed * rate.per_second);
    b.at = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::chrono::milliseconds(0);
  }
  const double wait_ms = std::ceil((1.0 - b.tokens) / rate.per_second * 1000.0);
  return std::chrono::milliseconds(static_cast<int64_t>(std::max(1.0, wait_ms)));
}

}  // namespace custodian::http

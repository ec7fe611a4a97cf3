#include "http/metrics.h"

#include <cassert>
#include <charconv>
#include <cmath>

namespace custodian::http {
namespace {

void AppendDouble(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  char buf[64];
  // Shortest round-trip form, plain decimals where %g would use them ("0.0005").
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general);
  out.append(buf, res.ptr);
}

void AppendEscaped(std::string& out, std::string_view s, bool quote_too) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote_too) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

bool IsMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsLabelName(std::string_view s) {
  if (s.empty() || s.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// An unambiguous map key for a list of label values: "<size>:<value>" each.
template <typename Container>
std::string EncodeKey(const Container& values, size_t want) {
  std::string key;
  size_t i = 0;
  for (std::string_view v : values) {
    if (i++ == want) break;
    key += std::to_string(v.size());
    key += ':';
    key += v;
  }
  for (; i < want; ++i) key += "0:";
  return key;
}

}  // namespace

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = counts_[i].load(std::memory_order_relaxed);
  return out;
}

uint64_t Histogram::Count() const {
  uint64_t n = 0;
  for (uint64_t c : BucketCounts()) n += c;
  return n;
}

const std::vector<double>& DefaultLatencyBuckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5};
  return kBuckets;
}

void MetricFamilyBase::RenderHeader(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  AppendEscaped(out, help_, /*quote_too=*/false);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type_;
  out += '\n';
}

std::string MetricFamilyBase::LabelPrefix(const std::vector<std::string>& values) const {
  if (label_names_.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < label_names_.size(); ++i) {
    if (i > 0) out += ',';
    out += label_names_[i];
    out += "=\"";
    AppendEscaped(out, values[i], /*quote_too=*/true);
    out += '"';
  }
  return out;
}

template <typename T>
T& MetricFamily<T>::WithLabels(std::initializer_list<std::string_view> values) {
  return WithLabels(std::vector<std::string_view>(values));
}

template <typename T>
T& MetricFamily<T>::WithLabels(const std::vector<std::string_view>& values) {
  assert(values.size() == label_names_.size() && "label values do not match label names");
  const std::string key = EncodeKey(values, label_names_.size());
  {
    std::shared_lock lock(mu_);
    auto it = series_.find(key);
    if (it != series_.end()) return *it->second.metric;
  }
  std::unique_lock lock(mu_);
  auto it = series_.find(key);
  if (it != series_.end()) return *it->second.metric;
  Series s;
  for (size_t i = 0; i < label_names_.size(); ++i) {
    s.values.emplace_back(i < values.size() ? values.begin()[i] : std::string_view());
  }
  s.metric = MakeSeries();
  T& ref = *s.metric;
  series_.emplace(key, std::move(s));
  return ref;
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

template <typename T>
template <typename U>
void MetricFamily<T>::RenderValues(std::string& out) const {
  RenderHeader(out);
  std::shared_lock lock(mu_);
  for (const auto& [key, s] : series_) {
    out += name_;
    std::string labels = LabelPrefix(s.values);
    if (!labels.empty()) out += labels + "}";
    out += ' ';
    out += std::to_string(s.metric->Value());
    out += '\n';
  }
}

void CounterFamily::Render(std::string& out) const { RenderValues(out); }
void GaugeFamily::Render(std::string& out) const { RenderValues(out); }

void HistogramFamily::Render(std::string& out) const {
  RenderHeader(out);
  std::shared_lock lock(mu_);
  for (const auto& [key, s] : series_) {
    const std::string labels = LabelPrefix(s.values);
    const std::string bucket_open = labels.empty() ? "{" : labels + ",";
    std::vector<uint64_t> counts = s.metric->BucketCounts();
    uint64_t cumulative = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      cumulative += counts[i];
      out += name_;
      out += "_bucket";
      out += bucket_open;
      out += "le=\"";
      AppendDouble(out, i < bounds_.size() ? bounds_[i] : INFINITY);
      out += "\"} ";
      out += std::to_string(cumulative);
      out += '\n';
    }
    const std::string suffix = labels.empty() ? "" : labels + "}";
    out += name_ + "_sum" + suffix + ' ';
    AppendDouble(out, s.metric->Sum());
    out += '\n';
    out += name_ + "_count" + suffix + ' ' + std::to_string(cumulative) + '\n';
  }
}

template <typename F, typename... Extra>
Result<F*> Metrics::Add(std::string_view name, std::string_view help, std::string_view type,
                        std::vector<std::string> label_names, Extra&&... extra) {
  if (!IsMetricName(name)) {
    return Status::InvalidArgument("invalid metric name '" + std::string(name) + "'");
  }
  for (const auto& l : label_names) {
    if (!IsLabelName(l) || (type == "histogram" && l == "le")) {
      return Status::InvalidArgument("metric " + std::string(name) + ": invalid label name '" + l +
                                     "'");
    }
  }
  std::lock_guard lock(mu_);
  for (const auto& f : families_) {
    if (f->name() != name) continue;
    auto* same = dynamic_cast<F*>(f.get());
    if (same == nullptr || f->label_names() != label_names) {
      return Status::AlreadyExists("metric " + std::string(name) +
                                   " is already registered with another type or labels");
    }
    return same;
  }
  auto family = std::make_unique<F>(std::string(name), std::string(help), std::move(label_names),
                                    std::forward<Extra>(extra)...);
  F* ptr = family.get();
  families_.push_back(std::move(family));
  return ptr;
}

Result<CounterFamily*> Metrics::AddCounter(std::string_view name, std::string_view help,
                                           std::vector<std::string> label_names) {
  return Add<CounterFamily>(name, help, "counter", std::move(label_names));
}

Result<GaugeFamily*> Metrics::AddGauge(std::string_view name, std::string_view help,
                                       std::vector<std::string> label_names) {
  return Add<GaugeFamily>(name, help, "gauge", std::move(label_names));
}

Result<HistogramFamily*> Metrics::AddHistogram(std::string_view name, std::string_view help,
                                               std::vector<std::string> label_names,
                                               std::vector<double> bounds) {
  if (bounds.empty()) {
    return Status::InvalidArgument("histogram " + std::string(name) + " needs bucket bounds");
  }
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      return Status::InvalidArgument("histogram " + std::string(name) +
                                     ": bucket bounds must be finite and strictly increasing");
    }
  }
  return Add<HistogramFamily>(name, help, "histogram", std::move(label_names), std::move(bounds));
}

void Metrics::AddCollector(std::function<void()> collect) {
  collectors_.push_back(std::move(collect));
}

std::string Metrics::Render() const {
  for (const auto& collect : collectors_) collect();
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& f : families_) f->Render(out);
  return out;
}

}  // namespace custodian::http

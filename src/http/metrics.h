// Metrics: counters, gauges and histograms with labels, rendered in the
// Prometheus text exposition format (version 0.0.4) for GET /metrics.
//
// Register a family once at setup, keep the pointer, and look series up by
// label values on the hot path:
//
//   auto* lookups = metrics.AddCounter("custodian_lookups_total",
//                                      "Lookups by outcome.", {"tenant", "outcome"}).value();
//   lookups->WithLabels({tenant, "hit"}).Inc();
//
// Label values must have low cardinality and never be personal data (a tenant
// id, a route name, an outcome; never a phone number or a raw path).
//
// Cost and thread-safety: everything may be called from any thread. Inc(),
// Add(), Set() and Observe() on a series are relaxed atomic operations (the
// series sits on its own cache line). WithLabels() takes its family's shared
// (reader) lock to find an existing series, and the exclusive lock only the
// first time a label combination appears; callers on a hot path may keep the
// returned reference, which stays valid for the registry's life. Render()
// reads the atomics without stopping writers, so a scrape may see a histogram
// observation in its buckets a moment before its sum.
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "custodian/status.h"

namespace custodian::http {

class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  alignas(64) std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  alignas(64) std::atomic<int64_t> value_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, strictly increasing (checked by
  // Metrics::AddHistogram); a +Inf bucket is implied.
  explicit Histogram(const std::vector<double>& bounds);
  void Observe(double value);
  // Per-bucket (not cumulative) counts, the last one +Inf.
  std::vector<uint64_t> BucketCounts() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t Count() const;

 private:
  const std::vector<double>& bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  alignas(64) std::atomic<double> sum_{0};
};

// The latency buckets of custodian_http_request_duration_seconds, in seconds:
// 0.5 ms to 5 s.
const std::vector<double>& DefaultLatencyBuckets();

class MetricFamilyBase {
 public:
  virtual ~MetricFamilyBase() = default;
  virtual void Render(std::string& out) const = 0;
  const std::string& name() const { return name_; }
  const std::string& type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 protected:
  MetricFamilyBase(std::string name, std::string help, std::string type,
                   std::vector<std::string> label_names)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(std::move(type)),
        label_names_(std::move(label_names)) {}
  void RenderHeader(std::string& out) const;
  // `{a="x",b="y"` (no closing brace), or "" without labels.
  std::string LabelPrefix(const std::vector<std::string>& values) const;

  std::string name_;
  std::string help_;
  std::string type_;
  std::vector<std::string> label_names_;
};

// A metric name with its label names, and one series per label combination.
template <typename T>
class MetricFamily : public MetricFamilyBase {
 public:
  // The series for these label values, one per label name, in order. Passing
  // the wrong number of values is a bug: it asserts, and in release builds
  // missing values read as "" and extra ones are dropped.
  T& WithLabels(std::initializer_list<std::string_view> values);
  T& WithLabels(const std::vector<std::string_view>& values);

 protected:
  using MetricFamilyBase::MetricFamilyBase;
  virtual std::unique_ptr<T> MakeSeries() const = 0;
  // Header, then one `name{labels} value` line per series (counters, gauges).
  // A member template, so that instantiating a histogram family (which has no
  // single value) does not instantiate it.
  template <typename U = T>
  void RenderValues(std::string& out) const;

  struct Series {
    std::vector<std::string> values;
    std::unique_ptr<T> metric;
  };
  mutable std::shared_mutex mu_;
  std::map<std::string, Series, std::less<>> series_;  // key: encoded label values
};

class CounterFamily final : public MetricFamily<Counter> {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> labels)
      : MetricFamily(std::move(name), std::move(help), "counter", std::move(labels)) {}
  void Render(std::string& out) const override;

 private:
  std::unique_ptr<Counter> MakeSeries() const override { return std::make_unique<Counter>(); }
};

class GaugeFamily final : public MetricFamily<Gauge> {
 public:
  GaugeFamily(std::string name, std::string help, std::vector<std::string> labels)
      : MetricFamily(std::move(name), std::move(help), "gauge", std::move(labels)) {}
  void Render(std::string& out) const override;

 private:
  std::unique_ptr<Gauge> MakeSeries() const override { return std::make_unique<Gauge>(); }
};

class HistogramFamily final : public MetricFamily<Histogram> {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> labels,
                  std::vector<double> bounds)
      : MetricFamily(std::move(name), std::move(help), "histogram", std::move(labels)),
        bounds_(std::move(bounds)) {}
  void Render(std::string& out) const override;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::unique_ptr<Histogram> MakeSeries() const override {
    return std::make_unique<Histogram>(bounds_);
  }
  std::vector<double> bounds_;
};

// The registry. Families are never removed, so the pointers it returns stay
// valid for its life.
class Metrics {
 public:
  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // InvalidArgument for a name not matching [a-zA-Z_:][a-zA-Z0-9_:]*, a label
  // name not matching [a-zA-Z_][a-zA-Z0-9_]* (or starting with "__", or "le"
  // for histograms), or histogram bounds that are empty or not strictly
  // increasing. Registering the same name again with the same type and labels
  // returns the existing family; with a different type or labels, AlreadyExists.
  Result<CounterFamily*> AddCounter(std::string_view name, std::string_view help,
                                    std::vector<std::string> label_names);
  Result<GaugeFamily*> AddGauge(std::string_view name, std::string_view help,
                                std::vector<std::string> label_names);
  Result<HistogramFamily*> AddHistogram(std::string_view name, std::string_view help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> bounds);

  // Runs before every Render(), outside the registry's lock: for values read
  // at scrape time (a gauge of open requests, say). Register before serving.
  void AddCollector(std::function<void()> collect);

  // Runs the collectors, then renders every family in registration order,
  // series sorted by label values.
  std::string Render() const;

 private:
  template <typename F, typename... Extra>
  Result<F*> Add(std::string_view name, std::string_view help, std::string_view type,
                 std::vector<std::string> label_names, Extra&&... extra);

  mutable std::mutex mu_;  // guards families_ (registration and Render only)
  std::vector<std::unique_ptr<MetricFamilyBase>> families_;
  std::vector<std::function<void()>> collectors_;  // set before serving, then read-only
};

}  // namespace custodian::http

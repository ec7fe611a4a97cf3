#include "http/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace custodian::http {
namespace {

TEST(MetricsTest, RendersPrometheusText) {
  Metrics m;
  auto* lookups =
      m.AddCounter("custodian_lookups_total", "Lookups.", {"tenant", "outcome"}).value();
  lookups->WithLabels({"interjet", "hit"}).Inc(3);
  lookups->WithLabels({"interjet", "miss"}).Inc();
  lookups->WithLabels({"a\"b\\c\nd", "hit"}).Inc();
  auto* open = m.AddGauge("custodian_open_requests", "Open requests\nper tenant.", {}).value();
  open->WithLabels({}).Add(5);
  open->WithLabels({}).Add(-7);
  auto* h = m.AddHistogram("custodian_x_seconds", "X.", {"route"}, {0.001, 0.5}).value();
  h->WithLabels({"r"}).Observe(0.0001);
  h->WithLabels({"r"}).Observe(0.25);
  h->WithLabels({"r"}).Observe(7);
  EXPECT_EQ(m.Render(),
            "# HELP custodian_lookups_total Lookups.\n"
            "# TYPE custodian_lookups_total counter\n"
            "custodian_lookups_total{tenant=\"a\\\"b\\\\c\\nd\",outcome=\"hit\"} 1\n"
            "custodian_lookups_total{tenant=\"interjet\",outcome=\"hit\"} 3\n"
            "custodian_lookups_total{tenant=\"interjet\",outcome=\"miss\"} 1\n"
            "# HELP custodian_open_requests Open requests\\nper tenant.\n"
            "# TYPE custodian_open_requests gauge\n"
            "custodian_open_requests -2\n"
            "# HELP custodian_x_seconds X.\n"
            "# TYPE custodian_x_seconds histogram\n"
            "custodian_x_seconds_bucket{route=\"r\",le=\"0.001\"} 1\n"
            "custodian_x_seconds_bucket{route=\"r\",le=\"0.5\"} 2\n"
            "custodian_x_seconds_bucket{route=\"r\",le=\"+Inf\"} 3\n"
            "custodian_x_seconds_sum{route=\"r\"} 7.2501\n"
            "custodian_x_seconds_count{route=\"r\"} 3\n");
}

TEST(MetricsTest, RegistrationIsIdempotentAndChecked) {
  Metrics m;
  auto a = m.AddCounter("c_total", "C.", {"x"});
  auto b = m.AddCounter("c_total", "C again.", {"x"});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(m.AddCounter("c_total", "C.", {"y"}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(m.AddGauge("c_total", "C.", {"x"}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(m.AddCounter("1bad", "", {}).status().message(), "invalid metric name '1bad'");
  EXPECT_EQ(m.AddCounter("bad-name", "", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.AddCounter("ok", "", {"__x"}).status().message(),
            "metric ok: invalid label name '__x'");
  EXPECT_EQ(m.AddHistogram("h", "", {"le"}, {1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.AddHistogram("h", "", {}, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.AddHistogram("h", "", {}, {1, 1}).status().message(),
            "histogram h: bucket bounds must be finite and strictly increasing");
}

TEST(MetricsTest, SeriesReferencesAreStableAndCountsExactUnderThreads) {
  Metrics m;
  auto* c = m.AddCounter("hits_total", "", {"worker"}).value();
  auto* h = m.AddHistogram("lat", "", {}, DefaultLatencyBuckets()).value();
  Counter& shared = c->WithLabels({"all"});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        shared.Inc();
        c->WithLabels({std::to_string(t)}).Inc();
        h->WithLabels({}).Observe(0.25);  // exact in binary: the sum is exact too
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(&c->WithLabels({"all"}), &shared);
  EXPECT_EQ(shared.Value(), uint64_t{kThreads * kPerThread});
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(c->WithLabels({std::to_string(t)}).Value(), uint64_t{kPerThread});
  }
  EXPECT_EQ(h->WithLabels({}).Count(), uint64_t{kThreads * kPerThread});
  EXPECT_EQ(h->WithLabels({}).Sum(), 0.25 * kThreads * kPerThread);
}

TEST(MetricsTest, DefaultLatencyBucketsSpanHalfAMillisecondToFiveSeconds) {
  const auto& b = DefaultLatencyBuckets();
  EXPECT_EQ(b.front(), 0.0005);
  EXPECT_EQ(b.back(), 5.0);
}

TEST(MetricsTest, CollectorsRunBeforeEachRender) {
  Metrics m;
  auto* g = m.AddGauge("custodian_things", "Things counted at scrape time", {"tenant"}).value();
  int64_t things = 3;
  m.AddCollector([&] { g->WithLabels({"interjet"}).Set(things); });
  EXPECT_NE(m.Render().find("custodian_things{tenant=\"interjet\"} 3\n"), std::string::npos)
      << m.Render();
  things = 5;
  EXPECT_NE(m.Render().find("custodian_things{tenant=\"interjet\"} 5\n"), std::string::npos);
}

}  // namespace
}  // namespace custodian::http

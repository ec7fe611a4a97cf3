// Where the Server runs handlers: each connection on one I/O thread's event
// loop, handlers of routes marked on_io_thread there, the others on the
// handler threads. Real sockets on 127.0.0.1; no assertion depends on timing
// (waits are generous upper bounds that only a broken server reaches).
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "http/server.h"
#include "http/test_client.h"

namespace custodian::http {
namespace {

using testing::ClientResponse;
using testing::TestClient;
using namespace std::chrono_literals;

std::string ThisThread() {
  std::ostringstream out;
  out << std::this_thread::get_id();
  return out.str();
}

// A gate handlers wait at until the test opens it (or 20 s pass).
class Gate {
 public:
  // True if opened, false on timeout.
  bool Wait() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 20s, [&] { return open_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Two handlers that each wait for the other (or 20 s): both answer "met" only
// if they ran at the same time.
class Meeting {
 public:
  std::string Arrive() {
    std::unique_lock lock(mu_);
    ++arrived_;
    cv_.notify_all();
    return cv_.wait_for(lock, 20s, [&] { return arrived_ >= 2; }) ? "met" : "alone";
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
};

class ServerThreadsTest : public ::testing::Test {
 protected:
  ServerThreadsTest() {
    options_.port = 0;
    options_.access_log = false;
  }

  void Start(int io_threads, int handler_threads) {
    options_.threads = io_threads;
    options_.handler_threads = handler_threads;
    Router r;
    RouteOptions io;
    io.on_io_thread = true;
    auto ok = [](Status s) { ASSERT_TRUE(s.ok()) << s.ToString(); };
    // /io and /pooled answer which thread ran them.
    ok(r.Add(
        "GET", "/io", "io", [](Request&) { return Response::Text(200, ThisThread()); }, io));
    ok(r.Add("GET", "/pooled", "pooled",
             [](Request&) { return Response::Text(200, ThisThread()); }));
    // /wait: a handler that waits (as one waiting for its commit does).
    ok(r.Add("GET", "/wait", "wait", [this](Request&) {
      waiting_.set_value();
      return Response::Text(200, gate_.Wait() ? "released" : "timed out");
    }));
    ok(r.Add(
        "GET", "/meet", "meet", [this](Request&) { return Response::Text(200, meeting_.Arrive()); },
        io));
    auto created = Server::Create(options_, std::move(r));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    server_ = std::move(created).value();
    ASSERT_TRUE(server_->Start().ok());
  }

  ClientResponse Fetch(std::string_view target) {
    TestClient c;
    EXPECT_FALSE(c.Connect(server_->port()));
    boost::beast::error_code ec;
    ClientResponse r = c.Request("GET", target, {}, {}, &ec);
    EXPECT_FALSE(ec) << ec.message();
    return r;
  }

  ServerOptions options_;
  Gate gate_;
  std::promise<void> waiting_;
  Meeting meeting_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerThreadsTest, AWaitingHandlerHoldsUpNoOtherConnectionOfItsIoThread) {
  Start(/*io_threads=*/1, /*handler_threads=*/2);
  TestClient waiter;
  ASSERT_FALSE(waiter.Connect(server_->port()));
  ASSERT_FALSE(waiter.Send("GET", "/wait"));
  ASSERT_EQ(waiting_.get_future().wait_for(20s), std::future_status::ready);
  // The one I/O thread still serves other connections, on it and on the
  // other handler thread, while /wait's handler waits.
  ClientResponse io = Fetch("/io");
  EXPECT_EQ(io.status, 200);
  ClientResponse pooled = Fetch("/pooled");
  EXPECT_EQ(pooled.status, 200);
  gate_.Open();
  ClientResponse r;
  ASSERT_FALSE(waiter.Receive(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "released");  // answered before the gate's 20 s ran out
}

TEST_F(ServerThreadsTest, HandlersRunWhereTheirRouteSays) {
  Start(/*io_threads=*/1, /*handler_threads=*/1);
  std::set<std::string> io, pooled;
  for (int i = 0; i < 3; ++i) {
    io.insert(Fetch("/io").body);
    pooled.insert(Fetch("/pooled").body);
  }
  ASSERT_EQ(io.size(), 1u);      // the one I/O thread, for every connection
  ASSERT_EQ(pooled.size(), 1u);  // the one handler thread
  EXPECT_NE(*io.begin(), *pooled.begin());
  EXPECT_NE(*io.begin(), ThisThread());
}

TEST_F(ServerThreadsTest, WithoutHandlerThreadsEveryHandlerRunsOnItsIoThread) {
  Start(/*io_threads=*/1, /*handler_threads=*/0);
  EXPECT_EQ(Fetch("/io").body, Fetch("/pooled").body);
}

TEST_F(ServerThreadsTest, ConnectionsAreSpreadOverTheIoThreads) {
  // Two connections in a row land on the two I/O threads: their handlers,
  // both on the I/O thread, run at the same time.
  Start(/*io_threads=*/2, /*handler_threads=*/0);
  TestClient a, b;
  ASSERT_FALSE(a.Connect(server_->port()));
  ASSERT_FALSE(b.Connect(server_->port()));
  ASSERT_FALSE(a.Send("GET", "/meet"));
  ASSERT_FALSE(b.Send("GET", "/meet"));
  ClientResponse ra, rb;
  ASSERT_FALSE(a.Receive(&ra));
  ASSERT_FALSE(b.Receive(&rb));
  EXPECT_EQ(ra.body, "met");
  EXPECT_EQ(rb.body, "met");
}

TEST_F(ServerThreadsTest, ShutdownWaitsForAHandlerOnAHandlerThread) {
  Start(/*io_threads=*/1, /*handler_threads=*/1);
  TestClient waiter;
  ASSERT_FALSE(waiter.Connect(server_->port()));
  ASSERT_FALSE(waiter.Send("GET", "/wait"));
  ASSERT_EQ(waiting_.get_future().wait_for(20s), std::future_status::ready);
  const uint16_t port = server_->port();
  std::thread stopper([&] { server_->Shutdown(20s); });
  // Shutdown has begun once the server refuses new connections.
  for (int i = 0; i < 1000; ++i) {
    TestClient probe;
    if (probe.Connect(port) == boost::asio::error::connection_refused) break;
    std::this_thread::sleep_for(20ms);
  }
  gate_.Open();
  ClientResponse r;
  ASSERT_FALSE(waiter.Receive(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "released");
  EXPECT_FALSE(r.keep_alive);  // the server is going away
  waiter.Close();
  stopper.join();
  server_->Wait();
}

}  // namespace
}  // namespace custodian::http

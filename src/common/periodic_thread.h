// A thread that does one piece of work again and again: the retention sweep,
// scheduled backups, outbox delivery, audit checkpoints. It waits `first`
// after Start, runs a round, waits as long as the round returns, and so on
// until Stop. Stop ends a wait at once and waits for a round in progress
// (a long round can look at stopping() to end early); Wake ends the current
// wait early without stopping.
//
// Thread-safety: Start, Stop, Wake and stopping from any thread; Start again
// after Stop starts a new thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace custodian {

class PeriodicThread {
 public:
  // One round of work; returns how long to wait before the next.
  using Round = std::function<std::chrono::milliseconds()>;

  PeriodicThread() = default;
  ~PeriodicThread() { Stop(); }
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Does nothing when the thread is running already.
  void Start(std::chrono::milliseconds first, Round round) {
    std::lock_guard<std::mutex> lock(mu_);
    if (thread_.joinable()) return;
    stop_ = false;
    woken_ = false;
    thread_ = std::thread([this, first, round = std::move(round)] { Run(first, round); });
  }

  // Idempotent; returns once the thread has ended. True if it was running.
  bool Stop() {
    std::thread ending;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      ending = std::move(thread_);
    }
    cv_.notify_all();
    if (!ending.joinable()) return false;
    ending.join();
    return true;
  }

  void Wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      woken_ = true;
    }
    cv_.notify_all();
  }

  bool stopping() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }

 private:
  void Run(std::chrono::milliseconds wait, const Round& round) {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, wait, [this] { return stop_ || woken_; });
        if (stop_) return;
        woken_ = false;
      }
      wait = round();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace custodian

// Runs a program as a child process for whole-system tests.
//
// Arguments go straight to posix_spawn (no shell, so nothing is interpolated
// or split), stdout and stderr are captured separately, stdin is /dev/null,
// and the environment is controlled: CUSTODIAN_MASTER_KEY and
// CUSTODIAN_DATA_DIR are always removed from what the child inherits unless the
// test sets them, so a developer's own settings cannot leak into a test.
// A child that outlives its timeout is killed (SIGKILL) and reported as such.
// Not thread-safe: it reads `environ`, which setenv() may change.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/fd.h"

extern char** environ;

namespace custodian::testing_util {

struct RunResult {
  int exit_code = -1;  // the exit status; 128 + signal if killed by one; -1 if not started
  bool signaled = false;
  bool timed_out = false;
  std::string out;
  std::string err;

  // For assertion messages: the exit code and both streams.
  std::string Describe() const {
    std::string s = "exit code " + std::to_string(exit_code);
    if (signaled) s += " (killed by a signal)";
    if (timed_out) s += " (timed out)";
    return s + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err + "--------------";
  }
};

struct RunOptions {
  // Set (a value) or remove (nullopt) variables on top of the inherited environment.
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  std::filesystem::path cwd;  // empty: the test's working directory
  std::chrono::milliseconds timeout{120000};
};

namespace run_internal {

using Fd = UniqueFd;

inline std::vector<std::string> ChildEnvironment(const RunOptions& options) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  auto apply = [&env](const std::string& name, const std::optional<std::string>& value) {
    const std::string prefix = name + "=";
    std::erase_if(env, [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
    if (value) env.push_back(prefix + *value);
  };
  apply("CUSTODIAN_MASTER_KEY", std::nullopt);
  apply("CUSTODIAN_DATA_DIR", std::nullopt);
  for (const auto& [name, value] : options.env) apply(name, value);  // the last one wins
  return env;
}

inline std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace run_internal

// Runs `program` (a path; no PATH search) with `args` (argv[1]...).
inline RunResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                            const RunOptions& options = {}) {
  using run_internal::Fd;
  RunResult result;
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.err = std::string("pipe2: ") + std::strerror(errno);
    return result;
  }
  Fd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.err = std::string("pipe2: ") + std::strerror(errno);
    return result;
  }
  Fd err_read(err_pipe[0]), err_write(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
  std::string cwd = options.cwd.string();
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());

  std::vector<std::string> argv_strings;
  argv_strings.push_back(program);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv = run_internal::CStrings(argv_strings);
  std::vector<std::string> env_strings = run_internal::ChildEnvironment(options);
  std::vector<char*> envp = run_internal::CStrings(env_strings);

  pid_t pid = -1;
  int spawn_error = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    result.err = "posix_spawn " + program + ": " + std::strerror(spawn_error);
    return result;
  }
  out_write.Close();
  err_write.Close();

  // Drain both pipes together so that neither can fill up and block the child.
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    pollfd fds[2];
    nfds_t n = 0;
    if (out_open) fds[n++] = {out_read.get(), POLLIN, 0};
    if (err_open) fds[n++] = {err_read.get(), POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    int ready = ::poll(
        fds, n, result.timed_out ? 1000 : static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ready == 0) {
      if (result.timed_out) break;  // killed, yet something keeps the pipes open
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      continue;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      bool is_out = fds[i].fd == out_read.get();
      if (got <= 0) {
        (is_out ? out_open : err_open) = false;
      } else {
        (is_out ? result.out : result.err).append(buf, static_cast<std::size_t>(got));
      }
    }
  }

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return result;
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signaled = true;
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

// Runs the custodian binary under test.
inline RunResult RunCustodian(const std::vector<std::string>& args,
                              const RunOptions& options = {}) {
  return RunProgram(CUSTODIAN_BINARY, args, options);
}

}  // namespace custodian::testing_util

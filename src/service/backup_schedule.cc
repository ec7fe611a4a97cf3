#include "service/backup_schedule.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "common/time.h"

namespace custodian::service {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::milliseconds kRetryAfterFailure = std::chrono::minutes(10);

// custodian-20261202T131500Z.backup, or -2, -3 ... when one second saw two.
const std::regex& BackupName() {
  static const std::regex name(R"(custodian-(\d{8}T\d{6}Z)(-\d+)?\.backup)");
  return name;
}

// "2026-12-02T13:15:00Z" -> "20261202T131500Z".
std::string Compact(const std::string& rfc3339) {
  std::string out;
  for (char c : rfc3339) {
    if (c != '-' && c != ':') out.push_back(c);
  }
  return out;
}

// What a backup's name says: its time (ms) and its -N (1 without one).
struct NameKey {
  int64_t ms = 0;
  int64_t n = 1;
  bool operator<(const NameKey& o) const { return ms != o.ms ? ms < o.ms : n < o.n; }
};

// The key of a backup's name, or nullopt for any other name.
std::optional<NameKey> KeyOf(const std::string& name) {
  std::smatch m;
  if (!std::regex_match(name, m, BackupName())) return std::nullopt;
  const std::string t = m[1].str();  // YYYYMMDDTHHMMSSZ
  const std::string rfc = t.substr(0, 4) + "-" + t.substr(4, 2) + "-" + t.substr(6, 2) + "T" +
                          t.substr(9, 2) + ":" + t.substr(11, 2) + ":" + t.substr(13, 2) + "Z";
  auto ms = ParseTime(rfc);
  if (!ms.ok()) return std::nullopt;
  NameKey key{*ms, 1};
  if (m[2].matched) key.n = std::strtoll(m[2].str().c_str() + 1, nullptr, 10);
  return key;
}

}  // namespace

BackupSchedule::BackupSchedule(Vault& vault, BackupScheduleOptions options)
    : vault_(vault), options_(std::move(options)) {}

BackupSchedule::~BackupSchedule() { Stop(); }

void BackupSchedule::Start() {
  thread_.Start(FirstWait(), [this] {
    ScheduledBackup round = RunOnce();
    const bool ok = round.status.ok();
    if (!ok && options_.on_error) options_.on_error(round.status);
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_ = std::move(round);
    }
    // A failed backup is tried again sooner than the next regular one.
    return ok ? options_.interval : std::min(options_.interval, kRetryAfterFailure);
  });
}

void BackupSchedule::Stop() { thread_.Stop(); }

std::optional<ScheduledBackup> BackupSchedule::last() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

std::vector<std::string> BackupSchedule::List(const std::string& dir) {
  std::vector<std::pair<NameKey, std::string>> found;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    auto key = KeyOf(name);
    if (key && e.is_regular_file(ec)) found.emplace_back(*key, std::move(name));
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> names;
  for (auto& [key, name] : found) names.push_back(std::move(name));
  return names;
}

std::chrono::milliseconds BackupSchedule::FirstWait() const {
  const std::vector<std::string> names = List(options_.dir);
  if (names.empty()) return options_.first_delay;
  const int64_t due = KeyOf(names.back())->ms + options_.interval.count();
  const int64_t wait = due - options_.clock();
  return std::max(options_.first_delay, std::chrono::milliseconds(wait));
}

ScheduledBackup BackupSchedule::RunOnce() {
  ScheduledBackup round;
  const auto start = std::chrono::steady_clock::now();
  const std::string stamp = Compact(FormatTime(options_.clock() / 1000 * 1000));
  std::error_code ec;
  // A `.partial` of this schedule's pattern is what a crash left mid-write
  // (one server per directory: none is being written now).
  for (const fs::directory_entry& e : fs::directory_iterator(options_.dir, ec)) {
    const std::string name = e.path().filename().string();
    constexpr std::string_view kPartial = ".partial";
    if (name.size() > kPartial.size() && name.ends_with(kPartial) &&
        KeyOf(name.substr(0, name.size() - kPartial.size()))) {
      fs::remove(e.path(), ec);
    }
  }
  fs::path file = fs::path(options_.dir) / ("custodian-" + stamp + ".backup");
  for (int n = 2; fs::exists(file, ec) || fs::exists(file.string() + ".partial", ec); ++n) {
    file = fs::path(options_.dir) / ("custodian-" + stamp + "-" + std::to_string(n) + ".backup");
  }
  auto summary = CreateBackup(vault_, options_.data_dir, file.string(), options_.actor);
  round.duration_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  round.finished_ms = options_.clock();
  if (!summary.ok()) {
    round.status = summary.status();
    return round;
  }
  round.file = file.string();
  round.summary = *summary;
  round.file_bytes = static_cast<int64_t>(fs::file_size(file, ec));
  // Keep the newest `keep` (this one among them); delete the rest.
  std::vector<std::string> names = List(options_.dir);
  const std::size_t keep = static_cast<std::size_t>(std::max(1, options_.keep));
  for (std::size_t i = 0; i + keep < names.size(); ++i) {
    if (fs::remove(fs::path(options_.dir) / names[i], ec)) round.pruned.push_back(names[i]);
  }
  return round;
}

}  // namespace custodian::service

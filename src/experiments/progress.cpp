// Progress bar and plain progress lines.
#include "experiments/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "check.hpp"

namespace bnorm::experiments {
namespace {

constexpr double kBarRedrawS = 0.1;

double rate_of(int64_t done, double elapsed_s) {
  return elapsed_s > 0.0 ? static_cast<double>(done) / elapsed_s : 0.0;
}

double eta_of(int64_t done, int64_t total, double elapsed_s) {
  const double rate = rate_of(done, elapsed_s);
  return rate > 0.0 ? static_cast<double>(total - done) / rate : -1.0;
}

std::string rate_text(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f it/s", rate);
  return buf;
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0.0) return "--:--";
  const auto s = static_cast<long long>(std::llround(seconds));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", s / 60, s % 60);
  }
  return buf;
}

std::string format_progress_bar(std::string_view label, int64_t done, int64_t total,
                                double elapsed_s, std::string_view status, int width) {
  const double fraction =
      total > 0 ? std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0)
                : 0.0;
  const int filled = static_cast<int>(fraction * width);
  std::string bar(label);
  bar += " [";
  bar.append(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(width - filled), '.');
  char tail[128];
  std::snprintf(tail, sizeof tail, "] %lld/%lld  %s  ETA %s", static_cast<long long>(done),
                static_cast<long long>(total), rate_text(rate_of(done, elapsed_s)).c_str(),
                format_duration(eta_of(done, total, elapsed_s)).c_str());
  bar += tail;
  if (!status.empty()) bar.append("  ").append(status);
  return bar;
}

std::string format_progress_line(std::string_view label, int64_t done, int64_t total,
                                 double elapsed_s, std::string_view status) {
  const long long percent = total > 0 ? (100LL * done) / total : 0;
  char body[160];
  std::snprintf(body, sizeof body, " %lld/%lld (%lld%%) %s elapsed %s ETA %s",
                static_cast<long long>(done), static_cast<long long>(total), percent,
                rate_text(rate_of(done, elapsed_s)).c_str(), format_duration(elapsed_s).c_str(),
                format_duration(eta_of(done, total, elapsed_s)).c_str());
  std::string line(label);
  line += body;
  if (!status.empty()) line.append(" ").append(status);
  return line;
}

Progress::Progress(ProgressOptions options)
    : options_(std::move(options)),
      interactive_(options_.interactive.value_or(isatty(fileno(options_.stream)) != 0)),
      start_(std::chrono::steady_clock::now()) {
  detail::check(options_.total > 0, "Progress", "expected total > 0 steps, got ", options_.total);
}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(int64_t done, std::string_view status) {
  done_ = done;
  const double now = elapsed_s();
  const double interval = interactive_ ? kBarRedrawS : options_.plain_interval_s;
  if (now - last_print_s_ < interval) return;
  last_print_s_ = now;
  if (interactive_) {
    // \r and clear-to-end-of-line: the bar overwrites itself.
    std::fprintf(options_.stream, "\r%s\x1b[K",
                 format_progress_bar(options_.label, done, options_.total, now, status).c_str());
  } else {
    std::fprintf(options_.stream, "%s\n",
                 format_progress_line(options_.label, done, options_.total, now, status).c_str());
  }
  std::fflush(options_.stream);
}

void Progress::finish(std::string_view status) {
  if (finished_) return;
  finished_ = true;
  const double now = elapsed_s();
  if (interactive_) {
    std::fprintf(options_.stream, "\r%s\x1b[K\n",
                 format_progress_bar(options_.label, done_, options_.total, now, status).c_str());
  } else {
    std::fprintf(options_.stream, "%s\n",
                 format_progress_line(options_.label, done_, options_.total, now, status).c_str());
  }
  std::fflush(options_.stream);
}

Progress::~Progress() { finish(); }

}  // namespace bnorm::experiments

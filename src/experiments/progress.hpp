// Progress reporting for long runs. On a terminal: one bar redrawn in place on stderr with the
// rate and the ETA, at most ten times a second. Otherwise (a log file, CI): a plain line every
// `plain_interval_s` seconds and one at the end, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace bnorm::experiments {

struct ProgressOptions {
  std::string label = "train";
  int64_t total = 0;  // steps expected; > 0
  std::FILE* stream = stderr;
  std::optional<bool> interactive;  // default: whether stream is a terminal
  double plain_interval_s = 10.0;
};

class Progress {
 public:
  explicit Progress(ProgressOptions options);  // throws bnorm::Error on total <= 0
  // done steps out of total; status is appended ("loss 0.231").
  void update(int64_t done, std::string_view status = {});
  // Prints the final state (and the newline after a bar). Called by the destructor if needed.
  void finish(std::string_view status = {});
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

 private:
  double elapsed_s() const;

  ProgressOptions options_;
  bool interactive_;
  std::chrono::steady_clock::time_point start_;
  double last_print_s_ = -1e9;
  int64_t done_ = 0;
  bool finished_ = false;
};

// "1:02:03" above an hour, else "02:03"; "--:--" for a negative or non-finite value.
std::string format_duration(double seconds);
// "label [#####.....]  50/100  12.3 it/s  ETA 00:04  status" (width: bar cells).
std::string format_progress_bar(std::string_view label, int64_t done, int64_t total,
                                double elapsed_s, std::string_view status, int width = 30);
// "label 50/100 (50%) 12.3 it/s elapsed 00:04 ETA 00:04 status".
std::string format_progress_line(std::string_view label, int64_t done, int64_t total,
                                 double elapsed_s, std::string_view status);

}  // namespace bnorm::experiments

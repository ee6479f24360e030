// Progress text: the bar and the plain line carry count, rate and ETA; durations format as
// mm:ss or h:mm:ss. (Formatting only: no timing is asserted.)
#include "experiments/progress.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "bnorm/error.hpp"

namespace bnorm::experiments {
namespace {

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(format_duration(0.0), "00:00");
  EXPECT_EQ(format_duration(125.4), "02:05");
  EXPECT_EQ(format_duration(3723.0), "1:02:03");
  EXPECT_EQ(format_duration(-1.0), "--:--");
}

TEST(Progress, BarShowsFillCountRateAndEta) {
  EXPECT_EQ(format_progress_bar("train", 50, 100, 10.0, "loss 0.5", 10),
            "train [#####.....] 50/100  5.0 it/s  ETA 00:10  loss 0.5");
  EXPECT_EQ(format_progress_bar("x", 0, 4, 0.0, "", 4), "x [....] 0/4  0.0 it/s  ETA --:--");
}

TEST(Progress, PlainLineShowsPercentRateElapsedAndEta) {
  EXPECT_EQ(format_progress_line("fig1", 250, 1000, 5.0, "acc 0.91"),
            "fig1 250/1000 (25%) 50.0 it/s elapsed 00:05 ETA 00:15 acc 0.91");
}

TEST(Progress, WritesPlainLinesToANonTerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress p({.label = "t", .total = 3, .stream = f, .interactive = false});
    p.update(1);
    p.finish("done");
  }
  std::rewind(f);
  char buf[256] = {};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  const std::string text(buf, n);
  EXPECT_NE(text.find("t 1/3 (33%)"), std::string::npos) << text;
  EXPECT_NE(text.find("done\n"), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos) << "no carriage returns in logs";
  EXPECT_THROW(Progress({.total = 0}), Error);
}

TEST(Progress, RedrawsOneBarOnATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress p({.label = "t", .total = 4, .stream = f, .interactive = true});
    p.update(2, "loss 1.0");
  }  // the destructor finishes the bar with a newline
  std::rewind(f);
  char buf[512] = {};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  const std::string text(buf, n);
  EXPECT_EQ(text.front(), '\r') << text;
  EXPECT_NE(text.find("t [###############...............] 2/4"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n') << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
}

}  // namespace
}  // namespace bnorm::experiments

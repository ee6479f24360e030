// The coordinate frame of one SVG plot (internal to src/report): the data ranges, their mapping
// to pixels inside the plot area, and the axes with their ticks, labels and title.
#pragma once

#include <limits>
#include <sstream>
#include <vector>

#include "report/svg_plot.hpp"

namespace bnorm::report {

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v);
  bool empty() const { return lo > hi; }
};

class Frame {
 public:
  // The plot area is the picture of width x height less fixed margins for ticks and labels.
  Frame(const Plot& plot, int width, int height);

  double px(double x) const;
  double py(double y) const;
  // Whether (x, y) is drawn: finite, positive on a log axis, inside the y range.
  bool visible(double x, double y) const;
  // Frame, grid lines, tick labels, axis labels and the title.
  void axes(std::ostringstream& out) const;

  int width() const { return width_; }
  int height() const { return height_; }
  int left() const { return left_; }
  int right_edge() const { return width_ - right_; }
  int top() const { return top_; }
  int bottom_edge() const { return height_ - bottom_; }

 private:
  void add_point(double x, double y);
  std::vector<double> x_ticks() const;
  std::string y_tick_text(double v, double step) const;

  const Plot& plot_;
  int width_, height_;
  int left_ = 64, right_ = 16, top_ = 28, bottom_ = 40;
  Range x_, y_;
};

// Tick step of 1, 2 or 5 times a power of ten giving about `target` ticks over [lo, hi].
double nice_step(double lo, double hi, int target);

}  // namespace bnorm::report

// The plot frame: data ranges widened to nice ticks, pixel mapping, axes and labels.
#include "report/svg_frame.hpp"

#include <algorithm>
#include <cmath>

namespace bnorm::report {
namespace {

constexpr int kYTicks = 5;  // about this many ticks on the y axis

std::string format_tick(double v) {
  std::ostringstream out;
  if (v != 0 && (std::abs(v) >= 1e5 || std::abs(v) < 1e-3)) {
    out.precision(2);
    out << std::scientific << v;
  } else {
    out.precision(6);
    out << v;
  }
  return out.str();
}

}  // namespace

void Range::add(double v) {
  if (!std::isfinite(v)) return;
  lo = std::min(lo, v);
  hi = std::max(hi, v);
}

double nice_step(double lo, double hi, int target) {
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return mag * (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10);
}

// Widening can change the tick step the axis then takes (-4.6..2.8 widens to -5..3, whose ticks
// are 2 apart): widen again until both ends sit on ticks of the final step.
std::pair<double, double> nice_y_range(double lo, double hi) {
  double step = nice_step(lo, hi, kYTicks);
  std::pair<double, double> range;
  for (int i = 0; i < 4; ++i) {
    range = {std::floor(lo / step) * step, std::ceil(hi / step) * step};
    const double next = nice_step(range.first, range.second, kYTicks);
    if (next == step) break;
    step = next;
  }
  return range;
}

Frame::Frame(const Plot& plot, int width, int height)
    : plot_(plot), width_(width), height_(height) {
  for (const Series& s : plot.series) {
    for (size_t i = 0; i < s.x.size(); ++i) add_point(s.x[i], i < s.y.size() ? s.y[i] : NAN);
  }
  for (const Band& b : plot.bands) {
    for (size_t i = 0; i < b.x.size(); ++i) {
      add_point(b.x[i], b.low[i]);
      add_point(b.x[i], b.high[i]);
    }
  }
  if (x_.empty()) x_ = {0, 1};
  if (y_.empty()) y_ = {0, 1};
  if (plot.y_min) y_.lo = *plot.y_min;
  if (plot.y_max) y_.hi = *plot.y_max;
  if (x_.hi == x_.lo) x_.hi = x_.lo + 1;
  if (y_.hi == y_.lo) y_ = {y_.lo - 0.5, y_.hi + 0.5};
  const auto [lo, hi] = nice_y_range(y_.lo, y_.hi);
  if (!plot.y_min) y_.lo = lo;
  if (!plot.y_max) y_.hi = hi;
}

double Frame::px(double x) const {
  const double t =
      plot_.log_x ? (std::log10(x) - std::log10(x_.lo)) / (std::log10(x_.hi) - std::log10(x_.lo))
                  : (x - x_.lo) / (x_.hi - x_.lo);
  return left_ + t * (width_ - left_ - right_);
}

double Frame::py(double y) const {
  const double t = (y - y_.lo) / (y_.hi - y_.lo);
  return height_ - bottom_ - t * (height_ - top_ - bottom_);
}

bool Frame::visible(double x, double y) const {
  return std::isfinite(x) && std::isfinite(y) && (!plot_.log_x || x > 0) && y >= y_.lo &&
         y <= y_.hi;
}

// Percent ticks carry as many decimals as the step needs: 92.5% for a step of 0.005.
std::string Frame::y_tick_text(double v, double step) const {
  if (!plot_.y_percent) return format_tick(v);
  const int digits = std::max(0, static_cast<int>(-std::floor(std::log10(100 * step) + 1e-9)));
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(digits);
  out << 100 * v << '%';
  return out.str();
}

void Frame::axes(std::ostringstream& out) const {
  out << "<rect x='" << left_ << "' y='" << top_ << "' width='" << width_ - left_ - right_
      << "' height='" << height_ - top_ - bottom_ << "' fill='none' stroke='#444'/>\n";
  const double ystep = nice_step(y_.lo, y_.hi, kYTicks);
  for (double v = std::ceil(y_.lo / ystep) * ystep; v <= y_.hi + 1e-9 * ystep; v += ystep) {
    out << "<line x1='" << left_ << "' x2='" << width_ - right_ << "' y1='" << py(v) << "' y2='"
        << py(v) << "' stroke='#ddd'/><text x='" << left_ - 6 << "' y='" << py(v) + 4
        << "' text-anchor='end'>" << y_tick_text(v, ystep) << "</text>\n";
  }
  for (double v : x_ticks()) {
    out << "<line y1='" << top_ << "' y2='" << height_ - bottom_ << "' x1='" << px(v) << "' x2='"
        << px(v) << "' stroke='#eee'/><text x='" << px(v) << "' y='" << height_ - bottom_ + 16
        << "' text-anchor='middle'>" << format_tick(v) << "</text>\n";
  }
  out << "<text x='" << (left_ + width_ - right_) / 2 << "' y='" << height_ - 6
      << "' text-anchor='middle'>" << escape_xml(plot_.x_label) << "</text>\n";
  out << "<text transform='translate(14," << (top_ + height_ - bottom_) / 2
      << ") rotate(-90)' text-anchor='middle'>" << escape_xml(plot_.y_label) << "</text>\n";
  out << "<text x='" << width_ / 2 << "' y='18' text-anchor='middle' font-weight='bold'>"
      << escape_xml(plot_.title) << "</text>\n";
}

void Frame::add_point(double x, double y) {
  if (!std::isfinite(x) || (plot_.log_x && x <= 0)) return;
  x_.add(x);
  y_.add(y);
}

std::vector<double> Frame::x_ticks() const {
  std::vector<double> ticks;
  if (plot_.log_x) {
    for (double d = std::floor(std::log10(x_.lo)); d <= std::ceil(std::log10(x_.hi)); ++d) {
      const double v = std::pow(10.0, d);
      if (v >= x_.lo * (1 - 1e-9) && v <= x_.hi * (1 + 1e-9)) ticks.push_back(v);
    }
    return ticks;
  }
  const double step = nice_step(x_.lo, x_.hi, 6);
  for (double v = std::ceil(x_.lo / step) * step; v <= x_.hi + 1e-9 * step; v += step) {
    ticks.push_back(v);
  }
  return ticks;
}

}  // namespace bnorm::report

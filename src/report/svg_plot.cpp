// SVG rendering of line plots: axes with "nice" ticks, optional log-x, bands, series, legend.
#include "report/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace bnorm::report {
namespace {

const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#17becf", "#bcbd22"};

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

// Tick step of 1, 2 or 5 times a power of ten giving about `target` ticks over [lo, hi].
double nice_step(double lo, double hi, int target) {
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return mag * (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10);
}

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

class Frame {
 public:
  Frame(const Plot& plot, int width, int height) : plot_(plot), width_(width), height_(height) {
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
    if (!plot.y_min || !plot.y_max) {  // widen to nice ticks
      const double step = nice_step(y_.lo, y_.hi, 5);
      if (!plot.y_min) y_.lo = std::floor(y_.lo / step) * step;
      if (!plot.y_max) y_.hi = std::ceil(y_.hi / step) * step;
    }
  }

  double px(double x) const {
    const double t =
        plot_.log_x ? (std::log10(x) - std::log10(x_.lo)) / (std::log10(x_.hi) - std::log10(x_.lo))
                    : (x - x_.lo) / (x_.hi - x_.lo);
    return left_ + t * (width_ - left_ - right_);
  }
  double py(double y) const {
    const double t = (y - y_.lo) / (y_.hi - y_.lo);
    return height_ - bottom_ - t * (height_ - top_ - bottom_);
  }
  bool visible(double x, double y) const {
    return std::isfinite(x) && std::isfinite(y) && (!plot_.log_x || x > 0) && y >= y_.lo &&
           y <= y_.hi;
  }

  void axes(std::ostringstream& out) const {
    out << "<rect x='" << left_ << "' y='" << top_ << "' width='" << width_ - left_ - right_
        << "' height='" << height_ - top_ - bottom_ << "' fill='none' stroke='#444'/>\n";
    const double ystep = nice_step(y_.lo, y_.hi, 5);
    for (double v = std::ceil(y_.lo / ystep) * ystep; v <= y_.hi + 1e-9 * ystep; v += ystep) {
      out << "<line x1='" << left_ << "' x2='" << width_ - right_ << "' y1='" << py(v) << "' y2='"
          << py(v) << "' stroke='#ddd'/><text x='" << left_ - 6 << "' y='" << py(v) + 4
          << "' text-anchor='end'>" << format_tick(v) << "</text>\n";
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

  int left() const { return left_; }
  int right_edge() const { return width_ - right_; }
  int top() const { return top_; }
  int bottom_edge() const { return height_ - bottom_; }

 private:
  void add_point(double x, double y) {
    if (!std::isfinite(x) || (plot_.log_x && x <= 0)) return;
    x_.add(x);
    y_.add(y);
  }
  std::vector<double> x_ticks() const {
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

  const Plot& plot_;
  int width_, height_;
  int left_ = 64, right_ = 16, top_ = 28, bottom_ = 40;
  Range x_, y_;
};

void draw_band(std::ostringstream& out, const Frame& f, const Band& b, const std::string& color) {
  std::ostringstream pts;
  for (size_t i = 0; i < b.x.size(); ++i) {
    if (f.visible(b.x[i], b.high[i])) pts << f.px(b.x[i]) << ',' << f.py(b.high[i]) << ' ';
  }
  for (size_t i = b.x.size(); i-- > 0;) {
    if (f.visible(b.x[i], b.low[i])) pts << f.px(b.x[i]) << ',' << f.py(b.low[i]) << ' ';
  }
  out << "<polygon points='" << pts.str() << "' fill='" << color
      << "' fill-opacity='0.18' stroke='none'/>\n";
}

void draw_series(std::ostringstream& out, const Frame& f, const Series& s,
                 const std::string& color) {
  const std::string style = "fill='none' stroke='" + color + "' stroke-width='1.8'" +
                            (s.dashed ? " stroke-dasharray='6,4'" : "");
  std::ostringstream pts;
  int count = 0;
  auto flush = [&] {
    if (count > 1) out << "<polyline points='" << pts.str() << "' " << style << "/>\n";
    pts.str("");
    count = 0;
  };
  for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
    if (!f.visible(s.x[i], s.y[i])) {
      flush();
      continue;
    }
    pts << f.px(s.x[i]) << ',' << f.py(s.y[i]) << ' ';
    ++count;
    if (s.markers) {
      out << "<circle cx='" << f.px(s.x[i]) << "' cy='" << f.py(s.y[i]) << "' r='2.5' fill='"
          << color << "'/>\n";
    }
  }
  flush();
}

struct LegendEntry {
  std::string label;
  std::string color;
  bool band = false;  // a filled swatch instead of a line
  bool dashed = false;
};

// Where the legend box goes: x, y of its top left corner and its size.
struct LegendBox {
  double x = 0, y = 0, w = 0, h = 0;
  bool outside = false;  // right of the plot area, which the picture widens for
};

constexpr double kLegendPad = 6;

// The corner of the plot area that hides the fewest data points (top right first, then top left,
// bottom right, bottom left); when every corner hides some, right of the plot area instead, where
// it hides nothing.
LegendBox place_legend(const Frame& f, const Plot& plot, const std::vector<LegendEntry>& legend) {
  size_t longest = 0;
  for (const LegendEntry& e : legend) longest = std::max(longest, e.label.size());
  LegendBox box{.w = 34 + 6.2 * static_cast<double>(longest), .h = 8 + 15.0 * legend.size()};
  const double xs[] = {f.right_edge() - kLegendPad - box.w, f.left() + kLegendPad};
  const double ys[] = {f.top() + kLegendPad, f.bottom_edge() - kLegendPad - box.h};
  auto hidden = [&](double x0, double y0) {
    int count = 0;
    auto inside = [&](double px, double py) {
      return px >= x0 && px <= x0 + box.w && py >= y0 && py <= y0 + box.h;
    };
    auto test = [&](double x, double y) {
      if (f.visible(x, y)) count += inside(f.px(x), f.py(y));
    };
    for (const Series& s : plot.series) {
      for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        test(s.x[i], s.y[i]);
        // Points along the segment to the next one: a line crossing the box hides it too.
        if (i + 1 < s.x.size() && i + 1 < s.y.size() && f.visible(s.x[i], s.y[i]) &&
            f.visible(s.x[i + 1], s.y[i + 1])) {
          for (int k = 1; k < 8; ++k) {
            const double t = k / 8.0;
            count += inside(f.px(s.x[i]) + t * (f.px(s.x[i + 1]) - f.px(s.x[i])),
                            f.py(s.y[i]) + t * (f.py(s.y[i + 1]) - f.py(s.y[i])));
          }
        }
      }
    }
    for (const Band& b : plot.bands) {
      for (size_t i = 0; i < b.x.size(); ++i) {
        test(b.x[i], b.low[i]);
        test(b.x[i], b.high[i]);
        test(b.x[i], (b.low[i] + b.high[i]) / 2);
      }
    }
    return count;
  };
  int best = std::numeric_limits<int>::max();
  for (double y : ys) {
    for (double x : xs) {
      const int n = hidden(x, y);
      if (n < best) best = n, box.x = x, box.y = y;
    }
  }
  if (best > 0) {
    box.outside = true;
    box.x = f.right_edge() + 2 * kLegendPad;
    box.y = f.top();
  }
  return box;
}

// The legend on a translucent white box, with swatches drawn as the data are (line, dashed
// line, or band).
void draw_legend(std::ostringstream& out, const LegendBox& box,
                 const std::vector<LegendEntry>& legend) {
  out << "<rect x='" << box.x << "' y='" << box.y << "' width='" << box.w << "' height='" << box.h
      << "' fill='white' fill-opacity='0.85' stroke='#ccc'/>\n";
  for (size_t i = 0; i < legend.size(); ++i) {
    const LegendEntry& e = legend[i];
    const double y = box.y + 15 + 15.0 * static_cast<double>(i), x = box.x + 6;
    if (e.band) {
      out << "<rect x='" << x << "' y='" << y - 9 << "' width='18' height='10' fill='" << e.color
          << "' fill-opacity='0.25'/>";
    } else {
      out << "<line x1='" << x << "' x2='" << x + 18 << "' y1='" << y - 4 << "' y2='" << y - 4
          << "' stroke='" << e.color << "' stroke-width='2'"
          << (e.dashed ? " stroke-dasharray='6,4'" : "") << "/>";
    }
    out << "<text x='" << x + 22 << "' y='" << y << "'>" << escape_xml(e.label) << "</text>\n";
  }
}

}  // namespace

std::optional<Plot> zoomed_to_late_values(const Plot& plot, double skip) {
  Range x, all, late;
  for (const Series& s : plot.series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) x.add(s.x[i]), all.add(s.y[i]);
  }
  if (x.empty()) return std::nullopt;
  const double from = x.lo + skip * (x.hi - x.lo);
  for (const Series& s : plot.series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (s.x[i] >= from) late.add(s.y[i]);
    }
  }
  const double lo = plot.y_min.value_or(all.lo), hi = plot.y_max.value_or(all.hi);
  if (late.empty() || late.hi - late.lo >= 0.5 * (hi - lo)) return std::nullopt;
  Plot zoom = plot;
  zoom.title += ", zoomed";
  zoom.bands.clear();
  zoom.y_min = std::max(lo, std::floor(late.lo * 200) / 200);
  zoom.y_max = std::min(hi, std::ceil(late.hi * 200) / 200 + 0.005);
  return zoom;
}

std::string escape_xml(const std::string& text) {
  std::string out;
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string render_svg(const Plot& plot, int width, int height) {
  const Frame frame(plot, width, height);
  // Colors in drawing order, bands first; the legend lists what has a label.
  size_t color_index = 0;
  std::vector<std::string> band_colors, series_colors;
  std::vector<LegendEntry> legend;
  for (const Band& b : plot.bands) {
    band_colors.push_back(b.color.empty() ? kPalette[color_index++ % 10] : b.color);
    if (!b.label.empty())
      legend.push_back({.label = b.label, .color = band_colors.back(), .band = true});
  }
  for (const Series& s : plot.series) {
    series_colors.push_back(s.color.empty() ? kPalette[color_index++ % 10] : s.color);
    if (!s.label.empty()) {
      legend.push_back({.label = s.label, .color = series_colors.back(), .dashed = s.dashed});
    }
  }
  const LegendBox box = legend.empty() ? LegendBox{} : place_legend(frame, plot, legend);
  const int total_width =
      box.outside ? static_cast<int>(std::ceil(box.x + box.w + kLegendPad)) : width;
  std::ostringstream out;
  out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << total_width << "' height='" << height
      << "' viewBox='0 0 " << total_width << ' ' << height
      << "' font-family='sans-serif' font-size='11'>\n";
  frame.axes(out);
  for (size_t i = 0; i < plot.bands.size(); ++i)
    draw_band(out, frame, plot.bands[i], band_colors[i]);
  for (size_t i = 0; i < plot.series.size(); ++i) {
    draw_series(out, frame, plot.series[i], series_colors[i]);
  }
  if (!legend.empty()) draw_legend(out, box, legend);
  out << "</svg>\n";
  return out.str();
}

}  // namespace bnorm::report

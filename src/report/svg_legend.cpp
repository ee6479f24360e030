// Legend placement by exact coverage tests against what the plot draws, and legend drawing.
#include "report/svg_legend.hpp"

#include <algorithm>
#include <cmath>

namespace bnorm::report {
namespace {

constexpr double kPad = 6;          // between the legend and the plot area's edge
constexpr double kClearance = 3;    // data this close to the box counts as covered
constexpr double kRowHeight = 15;   // one entry's line
constexpr double kCharWidth = 6.2;  // of 11px sans-serif, on average
constexpr double kMarkerRadius = 2.5;

double entry_width(const LegendEntry& e) {
  return 34 + kCharWidth * static_cast<double>(e.label.size());
}

// Liang-Barsky: whether the segment a-b meets the rectangle [x0, x1] x [y0, y1].
bool segment_meets(double ax, double ay, double bx, double by, double x0, double y0, double x1,
                   double y1) {
  double t0 = 0, t1 = 1;
  const double dx = bx - ax, dy = by - ay;
  auto clip = [&](double p, double q) {
    if (p == 0) return q >= 0;
    const double r = q / p;
    if (p < 0) {
      if (r > t1) return false;
      t0 = std::max(t0, r);
    } else {
      if (r < t0) return false;
      t1 = std::min(t1, r);
    }
    return true;
  };
  return clip(-dx, ax - x0) && clip(dx, x1 - ax) && clip(-dy, ay - y0) && clip(dy, y1 - ay);
}

// A band's area between samples i and i + 1, tested column by column (one pixel apart).
bool band_segment_meets(const Frame& f, const Band& b, size_t i, double x0, double y0, double x1,
                        double y1) {
  const double pa = f.px(b.x[i]), pb = f.px(b.x[i + 1]);
  const double ha = f.py(b.high[i]), hb = f.py(b.high[i + 1]);
  const double la = f.py(b.low[i]), lb = f.py(b.low[i + 1]);
  const double from = std::max(x0, std::min(pa, pb)), to = std::min(x1, std::max(pa, pb));
  for (double x = from; x <= to + 1e-9; x += 1) {
    const double t = pb == pa ? 0 : (x - pa) / (pb - pa);
    const double h = ha + t * (hb - ha), l = la + t * (lb - la);
    if (std::max(h, l) >= y0 && std::min(h, l) <= y1) return true;
  }
  return false;
}

// Entries one per line (inside or right of the plot) or flowing in rows across the plot's width
// (below it).
void lay_out(const Frame& f, const std::vector<LegendEntry>& legend, bool rows, LegendBox& box) {
  double x = 6, y = kRowHeight, widest = 0;
  const double room = f.right_edge() - f.left();
  for (const LegendEntry& e : legend) {
    if (rows && x > 6 && x + entry_width(e) > room) x = 6, y += kRowHeight;
    box.entry_dx.push_back(x);
    box.entry_dy.push_back(y);
    widest = std::max(widest, x - 6 + entry_width(e));  // entry_width holds both 6px margins
    if (rows) x += entry_width(e) + 4;
    if (!rows) y += kRowHeight;
  }
  box.w = widest;
  box.h = (rows ? y : y - kRowHeight) + 8;
}

}  // namespace

bool covers_data(const Frame& f, const Plot& plot, double x0, double y0, double x1, double y1) {
  x0 -= kClearance, y0 -= kClearance, x1 += kClearance, y1 += kClearance;
  for (const Series& s : plot.series) {
    const size_t n = std::min(s.x.size(), s.y.size());
    const double r = s.markers ? kMarkerRadius : 0;
    for (size_t i = 0; i < n; ++i) {
      if (!f.visible(s.x[i], s.y[i])) continue;
      const double ax = f.px(s.x[i]), ay = f.py(s.y[i]);
      if (ax >= x0 - r && ax <= x1 + r && ay >= y0 - r && ay <= y1 + r) return true;
      if (i + 1 < n && f.visible(s.x[i + 1], s.y[i + 1]) &&
          segment_meets(ax, ay, f.px(s.x[i + 1]), f.py(s.y[i + 1]), x0, y0, x1, y1))
        return true;
    }
  }
  for (const Band& b : plot.bands) {
    for (size_t i = 0; i + 1 < b.x.size(); ++i) {
      const bool drawn = f.visible(b.x[i], b.low[i]) && f.visible(b.x[i], b.high[i]) &&
                         f.visible(b.x[i + 1], b.low[i + 1]) &&
                         f.visible(b.x[i + 1], b.high[i + 1]);
      if (drawn && band_segment_meets(f, b, i, x0, y0, x1, y1)) return true;
    }
  }
  return false;
}

LegendBox place_legend(const Frame& f, const Plot& plot, const std::vector<LegendEntry>& legend) {
  LegendBox box;
  lay_out(f, legend, false, box);
  const double xs[] = {f.right_edge() - kPad - box.w, f.left() + kPad};
  const double ys[] = {f.top() + kPad, f.bottom_edge() - kPad - box.h};
  for (double y : ys) {
    for (double x : xs) {
      if (!covers_data(f, plot, x, y, x + box.w, y + box.h)) {
        box.x = x, box.y = y;
        return box;
      }
    }
  }
  if (plot.legend_outside == LegendOutside::kBelow) {
    box = LegendBox{.spot = LegendSpot::kBelow};
    lay_out(f, legend, true, box);
    box.x = f.left() - 6;  // the first swatch lines up with the plot area's left edge
    box.y = f.height();
  } else {
    box.spot = LegendSpot::kRight;
    box.x = f.right_edge() + 2 * kPad;
    box.y = f.top();
  }
  return box;
}

int picture_width(const Frame& f, const LegendBox& box) {
  if (box.spot != LegendSpot::kRight) return f.width();
  return static_cast<int>(std::ceil(box.x + box.w + kPad));
}

int picture_height(const Frame& f, const LegendBox& box) {
  if (box.spot != LegendSpot::kBelow) return f.height();
  return static_cast<int>(std::ceil(box.y + box.h + 2));
}

void draw_legend(std::ostringstream& out, const LegendBox& box,
                 const std::vector<LegendEntry>& legend) {
  if (box.spot != LegendSpot::kBelow) {
    out << "<rect x='" << box.x << "' y='" << box.y << "' width='" << box.w << "' height='" << box.h
        << "' fill='white' fill-opacity='0.85' stroke='#ccc'/>\n";
  }
  for (size_t i = 0; i < legend.size(); ++i) {
    const LegendEntry& e = legend[i];
    const double x = box.x + box.entry_dx[i], y = box.y + box.entry_dy[i];
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

}  // namespace bnorm::report

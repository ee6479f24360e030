// SVG rendering of line plots: bands and series drawn in a Frame (axes, ticks), then the legend.
#include "report/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "report/svg_frame.hpp"
#include "report/svg_legend.hpp"

namespace bnorm::report {
namespace {

const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#17becf", "#bcbd22"};

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
  const int total_width = picture_width(frame, box), total_height = picture_height(frame, box);
  std::ostringstream out;
  out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << total_width << "' height='"
      << total_height << "' viewBox='0 0 " << total_width << ' ' << total_height
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

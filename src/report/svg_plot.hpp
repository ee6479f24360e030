// Line plots rendered as standalone SVG text, to be inlined in the HTML report (no scripts, no
// network access needed to view them). Non-finite points break a line rather than distort it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bnorm::report {

struct Series {
  std::string label;
  std::vector<double> x;  // [points]
  std::vector<double> y;  // [points]; NaN/Inf leave a gap (e.g. a diverged run)
  std::string color;      // CSS color; empty picks one from the palette
  bool dashed = false;
  bool markers = false;  // a dot on every point
};

// A shaded region between two curves over the same x (e.g. 15th to 85th percentile).
struct Band {
  std::string label;
  std::vector<double> x, low, high;
  std::string color;
};

// Where the legend goes when every corner of the plot area has data under it.
enum class LegendOutside {
  kRight,  // one entry per line right of the plot area: the picture grows wider
  kBelow,  // entries in rows under the x-axis label: the picture grows taller, not wider (panels
           // side by side keep their width)
};

struct Plot {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_x = false;                  // x values must be > 0
  std::optional<double> y_min, y_max;  // default: fit the data
  std::vector<Band> bands;
  std::vector<Series> series;
  // Reports draw zoomed_to_late_values(plot) below the plot as well (long training curves, which
  // flatten and end close together).
  bool zoom_late_values = false;
  LegendOutside legend_outside = LegendOutside::kRight;
  bool y_percent = false;  // y values are fractions; tick labels read 92.5% for 0.925
};

// Renders the plot as an <svg> element of the given size in pixels. The legend (the labelled
// series and bands) goes in the first corner of the plot area (top right, top left, bottom right,
// bottom left) where it covers no line, marker or band; when every corner covers some, outside the
// plot area as plot.legend_outside says, and the picture is that much wider or taller.
std::string render_svg(const Plot& plot, int width = 640, int height = 360);

// The same plot with the y range fitted to the values its series take after the first `skip`
// fraction of the x range (where long training curves flatten and differ by little), rounded out to
// 0.005; nothing when that would not halve the y range. Earlier points fall outside and are not
// drawn. The title gets ", zoomed".
std::optional<Plot> zoomed_to_late_values(const Plot& plot, double skip = 0.1);

// The y range a plot takes for data spanning [lo, hi] (lo < hi, finite): widened to its outer
// ticks. Panels that share an axis set it as their y_min, y_max.
std::pair<double, double> nice_y_range(double lo, double hi);

// Escapes &, <, >, " for HTML/SVG text and attributes.
std::string escape_xml(const std::string& text);

}  // namespace bnorm::report

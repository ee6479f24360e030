// The legend of an SVG plot (internal to src/report): where it goes so that it covers no data,
// and its drawing, with swatches drawn as the data are.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "report/svg_frame.hpp"
#include "report/svg_plot.hpp"

namespace bnorm::report {

struct LegendEntry {
  std::string label;
  std::string color;
  bool band = false;  // a filled swatch instead of a line
  bool dashed = false;
};

enum class LegendSpot { kInside, kRight, kBelow };

// The legend's box (top left corner and size) and each entry's text baseline inside it.
struct LegendBox {
  double x = 0, y = 0, w = 0, h = 0;
  LegendSpot spot = LegendSpot::kInside;
  std::vector<double> entry_dx, entry_dy;  // [entries], relative to x, y
};

// The first corner of the plot area (top right, top left, bottom right, bottom left) where the box
// covers no line, marker or band; when every corner covers some, outside the plot area as
// plot.legend_outside says. The picture grows by what lies outside (picture_width/height).
LegendBox place_legend(const Frame& f, const Plot& plot, const std::vector<LegendEntry>& legend);
int picture_width(const Frame& f, const LegendBox& box);
int picture_height(const Frame& f, const LegendBox& box);

// Whether the rectangle [x0, x1] x [y0, y1] (pixels) covers any drawn line segment, marker or band
// area of the plot.
bool covers_data(const Frame& f, const Plot& plot, double x0, double y0, double x1, double y1);

void draw_legend(std::ostringstream& out, const LegendBox& box,
                 const std::vector<LegendEntry>& legend);

}  // namespace bnorm::report

// The SVG plots and HTML report: points land where they should, gaps for non-finite values,
// escaping, and a report that holds what was put in.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>

#include "report/html_report.hpp"
#include "report/svg_plot.hpp"

namespace bnorm::report {
namespace {

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

TEST(SvgPlot, OnePolylinePerSeriesWithEveryPoint) {
  Plot plot{.title = "t", .x_label = "step", .y_label = "accuracy"};
  plot.series.push_back({.label = "a", .x = {0, 1, 2, 3}, .y = {0.1, 0.5, 0.7, 0.9}});
  plot.series.push_back({.label = "b", .x = {0, 1, 2}, .y = {0.2, 0.3, 0.4}});
  const std::string svg = render_svg(plot, 400, 300);
  EXPECT_EQ(count(svg, "<polyline"), 2u);
  const std::regex points("points='([^']*)'");
  std::vector<size_t> sizes;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), points); it != std::sregex_iterator();
       ++it) {
    sizes.push_back(count((*it)[1].str(), ","));
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 3}));
}

TEST(SvgPlot, NonFiniteValuesBreakTheLine) {
  Plot plot;
  plot.series.push_back({.label = "diverged", .x = {0, 1, 2, 3, 4}, .y = {1, 2, NAN, 3, 4}});
  EXPECT_EQ(count(render_svg(plot), "<polyline"), 2u);
}

TEST(SvgPlot, ExtremesMapToThePlotEdges) {
  Plot plot{.y_min = 0.0, .y_max = 1.0};
  plot.series.push_back({.x = {10, 20}, .y = {0.0, 1.0}});
  const std::string svg = render_svg(plot, 640, 360);
  // Plot area: x from 64 to 624, y from 28 (top, value 1) to 320 (bottom, value 0).
  EXPECT_NE(svg.find("points='64,320 624,28 '"), std::string::npos) << svg;
}

TEST(SvgPlot, LogAxisPlacesDecadesEvenly) {
  Plot plot{.log_x = true, .y_min = 0.0, .y_max = 1.0};
  plot.series.push_back({.x = {0.01, 0.1, 1}, .y = {0, 0.5, 1}});
  EXPECT_NE(render_svg(plot, 640, 360).find("points='64,320 344,174 624,28 '"), std::string::npos);
}

// The legend box's corner: "x,y" of its <rect fill='white'>.
std::string legend_corner(const std::string& svg) {
  std::smatch m;
  const std::regex box("<rect x='([0-9.]+)' y='([0-9.]+)'[^>]*fill='white'");
  if (!std::regex_search(svg, m, box)) return "none";
  return m[1].str() + "," + m[2].str();
}

TEST(SvgPlot, LegendAvoidsTheData) {
  // A rising curve crowds the top right (and bottom left) corner: the legend goes top left.
  Plot rising{.y_min = 0.0, .y_max = 1.0};
  Series up{.label = "rising"};
  for (int i = 0; i <= 100; ++i) up.x.push_back(i), up.y.push_back(i / 100.0);
  rising.series.push_back(up);
  const std::string top_left = legend_corner(render_svg(rising, 640, 360));
  EXPECT_EQ(top_left.substr(0, top_left.find(',')), "70") << top_left;  // left edge 64 + 6
  // Flat at the top: the legend goes to the bottom.
  Plot flat{.y_min = 0.0, .y_max = 1.0};
  flat.series.push_back({.label = "flat", .x = {0, 50, 100}, .y = {0.95, 0.95, 0.95}});
  const std::string bottom = legend_corner(render_svg(flat, 640, 360));
  EXPECT_GT(std::stod(bottom.substr(bottom.find(',') + 1)), 180.0) << bottom;
  // Swatches are drawn as the data: a dashed series gets a dashed line, a band a filled box.
  Plot styled;
  styled.series.push_back({.label = "dashed", .x = {0, 1}, .y = {0, 1}, .dashed = true});
  styled.bands.push_back({.label = "band", .x = {0, 1}, .low = {0, 0}, .high = {1, 1}});
  const std::string svg = render_svg(styled);
  EXPECT_EQ(count(svg, "stroke-dasharray"), 2u);  // the series and its swatch
  EXPECT_EQ(count(svg, "fill-opacity='0.25'"), 1u);
}

// Data in every corner: the legend goes right of the plot area, which the picture widens for;
// with a free corner the picture keeps its size.
TEST(SvgPlot, LegendLeavesThePlotWhenEveryCornerHasData) {
  Plot crowded{.y_min = 0.0, .y_max = 1.0};
  Series up{.label = "up"}, down{.label = "down"};
  for (int i = 0; i <= 100; ++i) {
    up.x.push_back(i), up.y.push_back(i / 100.0);
    down.x.push_back(i), down.y.push_back(1 - i / 100.0);
  }
  crowded.series = {up, down};
  const std::string svg = render_svg(crowded, 640, 360);
  const std::string corner = legend_corner(svg);
  EXPECT_GE(std::stod(corner.substr(0, corner.find(','))), 640.0 - 16 + 12) << corner;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("<svg[^>]* width='([0-9]+)'")));
  EXPECT_GT(std::stoi(m[1].str()), 640);
  Plot one_line{.y_min = 0.0, .y_max = 1.0};
  one_line.series.push_back(up);
  EXPECT_NE(render_svg(one_line, 640, 360).find("width='640' height='360'"), std::string::npos);
}

// What lies between samples counts: a two-point line crossing the top right corner, and a band
// whose samples sit only at the plot's edges but whose area fills it.
TEST(SvgPlot, LegendAvoidsLinesAndBandsBetweenTheirSamples) {
  Plot diagonal{.y_min = 0.0, .y_max = 1.0};
  diagonal.series.push_back({.label = "two points", .x = {0, 100}, .y = {0, 1}});
  const std::string corner = legend_corner(render_svg(diagonal, 640, 360));
  EXPECT_EQ(corner.substr(0, corner.find(',')), "70") << corner;  // top left
  Plot filled{.y_min = 0.0, .y_max = 1.0};
  filled.bands.push_back({.label = "band", .x = {0, 100}, .low = {0, 0}, .high = {1, 1}});
  const std::string outside = legend_corner(render_svg(filled, 640, 360));
  EXPECT_GE(std::stod(outside.substr(0, outside.find(','))), 640.0 - 16 + 12) << outside;
  // A band under the top right corner only, a line along the bottom: the legend goes top left.
  Plot high{.y_min = 0.0, .y_max = 1.0};
  high.bands.push_back({.label = "band", .x = {50, 100}, .low = {0.5, 0.5}, .high = {1, 1}});
  high.series.push_back({.x = {0, 100}, .y = {0.02, 0.02}});
  const std::string left = legend_corner(render_svg(high, 640, 360));
  EXPECT_EQ(left.substr(0, left.find(',')), "70") << left;
}

// LegendOutside::kBelow: a crowded plot keeps its width and grows taller, its legend entries in a
// row under the x-axis label.
TEST(SvgPlot, LegendBelowKeepsTheWidth) {
  Plot crowded{.y_min = 0.0, .y_max = 1.0, .legend_outside = LegendOutside::kBelow};
  crowded.series.push_back({.label = "up", .x = {0, 100}, .y = {0, 1}});
  crowded.series.push_back({.label = "down", .x = {0, 100}, .y = {1, 0}});
  const std::string svg = render_svg(crowded, 356, 300);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(svg, m, std::regex("<svg[^>]* width='([0-9]+)' height='([0-9]+)'")));
  EXPECT_EQ(m[1].str(), "356");
  EXPECT_GT(std::stoi(m[2].str()), 300);
  // Both entries on one line, below the picture's original height.
  const std::regex label("<text x='([0-9.]+)' y='([0-9.]+)'>(up|down)</text>");
  std::vector<std::pair<double, double>> at;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), label); it != std::sregex_iterator();
       ++it)
    at.emplace_back(std::stod((*it)[1].str()), std::stod((*it)[2].str()));
  ASSERT_EQ(at.size(), 2u) << svg;
  EXPECT_GT(at[0].second, 300.0);
  EXPECT_EQ(at[0].second, at[1].second);
  EXPECT_LT(at[0].first, at[1].first);
  EXPECT_EQ(legend_corner(svg), "none");  // no box: it covers nothing
}

TEST(SvgPlot, PercentTicks) {
  Plot plot{.y_min = 0.9, .y_max = 0.92, .y_percent = true};
  plot.series.push_back({.x = {0, 1}, .y = {0.9, 0.92}});
  const std::string svg = render_svg(plot);  // ticks 0.005 apart
  EXPECT_NE(svg.find(">90.5%</text>"), std::string::npos) << svg;
  EXPECT_NE(svg.find(">92.0%</text>"), std::string::npos) << svg;
  EXPECT_EQ(svg.find(">0.905</text>"), std::string::npos);
}

// The range a plot picks on its own; panels that share an axis set it.
TEST(SvgPlot, NiceYRangeEndsAtTicks) {
  EXPECT_EQ(nice_y_range(-4.6, 2.8), std::make_pair(-6.0, 4.0));  // ticks 2 apart
  EXPECT_EQ(nice_y_range(0.12, 0.93), std::make_pair(0.0, 1.0));  // ticks 0.2 apart
  Plot plot;
  plot.series.push_back({.x = {0, 1}, .y = {-4.6, 2.8}});
  const std::string svg = render_svg(plot);
  EXPECT_NE(svg.find(">-6</text>"), std::string::npos);
  EXPECT_NE(svg.find(">4</text>"), std::string::npos);
}

TEST(SvgPlot, ZoomFitsTheLateValues) {
  // A training curve: chance at step 0, then 0.90 to 0.93 from step 10 to 100.
  Plot plot{.title = "acc", .y_min = 0.0, .y_max = 1.0};
  Series s{.label = "a", .x = {0}, .y = {0.1}};
  for (int step = 10; step <= 100; step += 10) {
    s.x.push_back(step);
    s.y.push_back(0.90 + 0.03 * (step - 10) / 90.0);
  }
  plot.series.push_back(s);
  const auto zoom = zoomed_to_late_values(plot);
  ASSERT_TRUE(zoom.has_value());
  EXPECT_EQ(zoom->title, "acc, zoomed");
  EXPECT_NEAR(*zoom->y_min, 0.90, 1e-12);
  EXPECT_NEAR(*zoom->y_max, 0.935, 1e-12);
  // Late values that span most of the range: no zoom.
  plot.series[0].y.back() = 0.2;
  EXPECT_FALSE(zoomed_to_late_values(plot).has_value());
}

TEST(HtmlReport, EscapesTextAndHoldsTablesAndFigures) {
  HtmlReport r("A <b> report");
  r.paragraph("x < y & z");
  r.table({"claim", "verdict"}, {{"BN faster", {"yes", "pass"}}});
  Plot plot;
  plot.series.push_back({.x = {0, 1}, .y = {0, 1}});
  r.figure(render_svg(plot), "Figure 1");
  const std::string html = r.html();
  EXPECT_NE(html.find("A &lt;b&gt; report"), std::string::npos);
  EXPECT_NE(html.find("x &lt; y &amp; z"), std::string::npos);
  EXPECT_NE(html.find("<td class='pass'>yes</td>"), std::string::npos);
  EXPECT_NE(html.find("<figcaption>Figure 1</figcaption>"), std::string::npos);
  EXPECT_EQ(count(html, "<svg"), 1u);
}

TEST(HtmlReport, FigureRowHoldsItsPanelsAboveOneCaption) {
  HtmlReport r("row");
  Plot plot;
  plot.series.push_back({.x = {0, 1}, .y = {0, 1}});
  r.figure_row({render_svg(plot, 356, 300), render_svg(plot, 356, 300)}, "(a) and (b)");
  const std::string html = r.html();
  const std::regex row(
      "<figure class='row'><div "
      "class='panels'><svg[\\s\\S]*?</svg>\\s*<svg[\\s\\S]*?</svg>\\s*</div>"
      "<figcaption>\\(a\\) and \\(b\\)</figcaption></figure>");
  EXPECT_TRUE(std::regex_search(html, row)) << html;
}

}  // namespace
}  // namespace bnorm::report

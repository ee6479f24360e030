// Assembles the HTML report page.
#include "report/html_report.hpp"

#include <fstream>

#include "bnorm/error.hpp"
#include "io/atomic_file.hpp"
#include "report/svg_plot.hpp"

namespace bnorm::report {

namespace {
const char* kStyle = R"(
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; padding-bottom: .2em; }
figure { display: inline-block; margin: .5em 1em .5em 0; vertical-align: top; }
figcaption { font-size: .9em; color: #555; max-width: 640px; }
figure svg { max-width: 100%; height: auto; }
figure.row { display: block; margin-right: 0; }
figure.row figcaption { max-width: none; }
.panels { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: flex-start; }
table { border-collapse: collapse; margin: .8em 0; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.pass { background: #e3f5e1; color: #1a5e12; font-weight: bold; }
td.fail { background: #fbe3e1; color: #8a1c12; font-weight: bold; }
)";
}  // namespace

HtmlReport::HtmlReport(std::string title) : title_(std::move(title)) {}

void HtmlReport::heading(const std::string& text, int level) {
  const std::string n = std::to_string(level);
  body_.append("<h").append(n).append(">").append(escape_xml(text));
  body_.append("</h").append(n).append(">\n");
}

void HtmlReport::paragraph(const std::string& text) {
  body_ += "<p>" + escape_xml(text) + "</p>\n";
}

void HtmlReport::raw_html(const std::string& html) { body_ += html + "\n"; }

void HtmlReport::figure(const std::string& svg, const std::string& caption) {
  body_ += "<figure>" + svg + "<figcaption>" + escape_xml(caption) + "</figcaption></figure>\n";
}

void HtmlReport::figure_row(const std::vector<std::string>& svgs, const std::string& caption) {
  body_ += "<figure class='row'><div class='panels'>";
  for (const std::string& svg : svgs) body_ += svg;
  body_ += "</div><figcaption>" + escape_xml(caption) + "</figcaption></figure>\n";
}

void HtmlReport::table(const std::vector<std::string>& header,
                       const std::vector<std::vector<Cell>>& rows) {
  body_ += "<table><tr>";
  for (const auto& h : header) body_ += "<th>" + escape_xml(h) + "</th>";
  body_ += "</tr>\n";
  for (const auto& row : rows) {
    body_ += "<tr>";
    for (const Cell& c : row) {
      body_ += c.css_class.empty() ? "<td>" : "<td class='" + c.css_class + "'>";
      body_ += escape_xml(c.text) + "</td>";
    }
    body_ += "</tr>\n";
  }
  body_ += "</table>\n";
}

std::string HtmlReport::html() const {
  return "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>" +
         escape_xml(title_) + "</title><style>" + kStyle + "</style></head><body>\n<h1>" +
         escape_xml(title_) + "</h1>\n" + body_ + "</body></html>\n";
}

void HtmlReport::write(const std::filesystem::path& path) const {
  io::write_file_atomically(path, html());
}

}  // namespace bnorm::report

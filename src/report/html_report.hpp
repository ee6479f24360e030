// A self-contained HTML report: headings, text, inline SVG figures and tables, one file with no
// external resources, so it opens anywhere without network access.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace bnorm::report {

struct Cell {
  std::string text;
  std::string css_class;                       // "pass", "fail", "num" or empty
  Cell(std::string t) : text(std::move(t)) {}  // NOLINT: implicit from text is the common case
  Cell(const char* t) : text(t) {}             // NOLINT
  Cell(std::string t, std::string c) : text(std::move(t)), css_class(std::move(c)) {}
};

class HtmlReport {
 public:
  explicit HtmlReport(std::string title);

  void heading(const std::string& text, int level = 2);
  void paragraph(const std::string& text);  // escaped
  void raw_html(const std::string& html);   // inserted as is: only for markup built here
  void figure(const std::string& svg, const std::string& caption);
  // Panels side by side (as a paper's figure (a), (b), (c)) above one caption; on a screen too
  // narrow for the row they wrap, each panel keeping its size.
  void figure_row(const std::vector<std::string>& svgs, const std::string& caption);
  void table(const std::vector<std::string>& header, const std::vector<std::vector<Cell>>& rows);

  std::string html() const;
  // Writes html() to path; throws bnorm::Error naming the path if it cannot.
  void write(const std::filesystem::path& path) const;

 private:
  std::string title_;
  std::string body_;
};

}  // namespace bnorm::report

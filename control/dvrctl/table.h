// A plain-text table: a header row, columns as wide as their widest cell, text left-aligned and
// numbers right-aligned, two spaces between columns.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace dvrctl {

enum class Align { kLeft, kRight };

struct Column {
  std::string title;
  Align align = Align::kLeft;
};

class Table {
 public:
  explicit Table(std::vector<Column> columns);

  // `cells` has one entry per column (missing cells print as "-", extra ones are dropped).
  // Empty cells print as "-"; control characters print as '?'.
  void add_row(std::vector<std::string> cells);

  bool empty() const { return rows_.empty(); }
  void print(std::ostream& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace dvrctl

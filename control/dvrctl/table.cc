#include "table.h"

#include <algorithm>
#include <utility>

#include "format.h"

namespace dvrctl {

namespace {

// Terminal columns a cell takes: UTF-8 continuation bytes take none.
size_t display_width(const std::string& s) {
  size_t n = 0;
  for (const char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string cell_text(std::string s) {
  return s.empty() ? "-" : printable(std::move(s));
}

}  // namespace

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  for (std::string& c : cells) c = cell_text(std::move(c));
  rows_.push_back(std::move(cells));
}

void Table::print(std::ostream& out) const {
  std::vector<size_t> width(columns_.size());
  for (size_t i = 0; i < columns_.size(); ++i) {
    width[i] = display_width(columns_[i].title);
    for (const auto& row : rows_) width[i] = std::max(width[i], display_width(row[i]));
  }
  const auto print_row = [&](const auto& cell_at) {
    std::string line;
    for (size_t i = 0; i < columns_.size(); ++i) {
      const std::string& cell = cell_at(i);
      const std::string pad(width[i] - display_width(cell), ' ');
      if (i > 0) line += "  ";
      if (columns_[i].align == Align::kRight) {
        line += pad + cell;
      } else {
        line += cell;
        if (i + 1 < columns_.size()) line += pad;
      }
    }
    out << line << '\n';
  };
  print_row([&](size_t i) -> const std::string& { return columns_[i].title; });
  for (const auto& row : rows_) {
    print_row([&](size_t i) -> const std::string& { return row[i]; });
  }
}

}  // namespace dvrctl

#include "help.h"

#include <string_view>
#include <utility>
#include <vector>

#include "client.h"

namespace dvrctl {

namespace {

// Help lines are wrapped at this many columns where the usage allows it.
constexpr size_t kLineWidth = 80;

// The synopsis split at the spaces outside brackets, so that "[--ip IP ...]" stays one piece.
std::vector<std::string> synopsis_pieces(std::string_view synopsis) {
  std::vector<std::string> pieces;
  std::string piece;
  int depth = 0;
  for (const char c : synopsis) {
    if (c == ' ' && depth == 0) {
      if (!piece.empty()) pieces.push_back(std::move(piece));
      piece.clear();
      continue;
    }
    if (c == '[') ++depth;
    if (c == ']' && depth > 0) --depth;
    piece += c;
  }
  if (!piece.empty()) pieces.push_back(std::move(piece));
  return pieces;
}

// The command's name and synopsis after `lead` (already printed on the line, e.g. "  "),
// wrapped at kLineWidth; continuation lines are indented by `indent` columns, by default so
// that they line up after the command's name. Sets `last_line_width` to the width of the last
// line, `lead` included.
std::string usage_text(std::string_view lead, const Command& cmd, size_t& last_line_width,
                       size_t indent = 0) {
  std::string text = command_name(cmd);
  if (indent == 0) indent = lead.size() + text.size() + 1;
  size_t width = lead.size() + text.size();
  for (const std::string& piece : synopsis_pieces(cmd.synopsis)) {
    if (width + 1 + piece.size() > kLineWidth && width > indent) {
      text += '\n';
      text += std::string(indent, ' ');
      width = indent;
    } else {
      text += ' ';
      ++width;
    }
    text += piece;
    width += piece.size();
  }
  last_line_width = width;
  return text;
}

void print_command_list(const std::vector<const Command*>& cmds, std::ostream& out) {
  // Usages wider than this go on their own lines, the summary on the next.
  constexpr size_t kUsageWidth = 32;
  for (const Command* c : cmds) {
    size_t width = 0;
    const std::string usage = usage_text("  ", *c, width);
    out << "  " << usage;
    if (width > 2 + kUsageWidth || usage.find('\n') != std::string::npos) {
      out << "\n" << std::string(2 + kUsageWidth + 2, ' ');
    } else {
      out << std::string(2 + kUsageWidth + 2 - width, ' ');
    }
    out << c->summary << "\n";
  }
}

}  // namespace

void print_global_help(std::ostream& out) {
  out << "Usage: dvrctl [OPTIONS] COMMAND [ARGS...]\n"
         "\n"
         "Command-line client of dvrd, the DPDK virtual router. Each invocation connects to\n"
         "dvrd's control socket, checks that dvrd speaks the same API version, and sends one\n"
         "request.\n"
         "\n"
         "Options (before or after the command):\n"
         "  --socket PATH      dvrd's control socket (default: $DVRD_SOCKET if set, else\n"
         "                     "
      << dvr::kDefaultSocketPath
      << ")\n"
         "  --json             print the response as JSON (the proto3 JSON mapping of the\n"
         "                     response message; 64-bit counters are strings) instead of tables\n"
         "  --timeout SECONDS  give up when dvrd does not answer within SECONDS (default: 10;\n"
         "                     fractions such as 0.5 are allowed)\n"
         "  -h, --help         show this help and exit\n"
         "  --version          show dvrctl's version and exit\n"
         "\n"
         "Commands:\n";
  std::vector<const Command*> all;
  for (const Command& c : command_table()) all.push_back(&c);
  print_command_list(all, out);
  out << "\n"
         "Run 'dvrctl COMMAND --help' for the details of a command.\n"
         "\n"
         "Exit status: 0 on success; 1 when dvrd cannot be reached, does not answer in time or\n"
         "refuses the request (the reason goes to stderr); 2 when the command line is wrong.\n";
}

void print_command_help(const Command& cmd, std::ostream& out) {
  constexpr std::string_view kLead = "Usage: dvrctl [OPTIONS] ";
  size_t width = 0;
  out << kLead << usage_text(kLead, cmd, width, 9) << "\n\n"
      << cmd.details << "\n"
      << "Global options (--socket, --json, --timeout) may go before or after the command; see "
         "'dvrctl --help'.\n";
}

void print_group_help(std::span<const std::string> prefix, std::ostream& out) {
  std::string group;
  for (const std::string& w : prefix) {
    if (!group.empty()) group += ' ';
    group += w;
  }
  out << "Usage: dvrctl [OPTIONS] " << group << " COMMAND [ARGS...]\n\n"
      << "Commands:\n";
  print_command_list(commands_under(prefix), out);
  out << "\nRun 'dvrctl " << group << " COMMAND --help' for the details of a command.\n";
}

}  // namespace dvrctl

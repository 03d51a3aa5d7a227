#include "help.h"

#include "client.h"

namespace dvrctl {

namespace {

std::string usage_line(const Command& cmd) {
  std::string line = command_name(cmd);
  if (!cmd.synopsis.empty()) {
    line += ' ';
    line += cmd.synopsis;
  }
  return line;
}

void print_command_list(const std::vector<const Command*>& cmds, std::ostream& out) {
  // Usages longer than this go on their own line, the summary on the next.
  constexpr size_t kUsageWidth = 32;
  for (const Command* c : cmds) {
    const std::string line = usage_line(*c);
    out << "  " << line;
    if (line.size() > kUsageWidth) {
      out << "\n" << std::string(2 + kUsageWidth + 2, ' ');
    } else {
      out << std::string(kUsageWidth + 2 - line.size(), ' ');
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
  out << "Usage: dvrctl [OPTIONS] " << usage_line(cmd) << "\n\n"
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

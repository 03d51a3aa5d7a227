#include "command.h"

#include "cmd_port.h"
#include "cmd_stats.h"
#include "cmd_version.h"

namespace dvrctl {

std::span<const Command> command_table() {
  static const std::vector<Command> kCommands = {
      {{"version"}, "", "show the versions of dvrd, its API and dvrctl", kVersionHelp, run_version},
      {{"port", "add"},
       "NAME TYPE [KEY=VALUE ...] [--xconnect PEER]",
       "add a dataplane port",
       kPortAddHelp,
       run_port_add},
      {{"port", "remove"},
       "NAME [--missing-ok]",
       "remove a dataplane port",
       kPortRemoveHelp,
       run_port_remove},
      {{"port", "list"}, "", "list the dataplane ports", kPortListHelp, run_port_list},
      {{"stats"}, "[--port NAME]", "show port, worker and punt counters", kStatsHelp, run_stats},
  };
  return kCommands;
}

namespace {

bool starts_with(std::span<const std::string> words, const std::vector<std::string_view>& prefix) {
  if (words.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (words[i] != prefix[i]) return false;
  }
  return true;
}

}  // namespace

const Command* find_command(std::span<const std::string> words, size_t& consumed) {
  const Command* best = nullptr;
  for (const Command& cmd : command_table()) {
    if (starts_with(words, cmd.words) &&
        (best == nullptr || cmd.words.size() > best->words.size())) {
      best = &cmd;
    }
  }
  consumed = best == nullptr ? 0 : best->words.size();
  return best;
}

std::vector<const Command*> commands_under(std::span<const std::string> prefix) {
  std::vector<const Command*> out;
  for (const Command& cmd : command_table()) {
    if (cmd.words.size() < prefix.size()) continue;
    bool match = true;
    for (size_t i = 0; i < prefix.size() && match; ++i) match = cmd.words[i] == prefix[i];
    if (match) out.push_back(&cmd);
  }
  return out;
}

std::string command_name(const Command& cmd) {
  std::string out;
  for (std::string_view w : cmd.words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

}  // namespace dvrctl

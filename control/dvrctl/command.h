// The command table: every dvrctl command is one entry naming its words, help and handler.
// Adding a command is adding a handler (cmd_*.cc) and one entry in command_table.cc.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dvrctl {

class Session;

// What a handler gets: the command's name as typed ("port add") for error messages, and the
// words after it. -h/--help never reaches a handler.
struct Invocation {
  std::string name;
  std::vector<std::string> args;
};

// Returns the exit status. Throws UsageError, RequestFailed or dvr::ClientError.
using Handler = int (*)(Session& session, const Invocation& inv);

struct Command {
  std::vector<std::string_view> words;  // e.g. {"port", "add"}
  std::string_view synopsis;            // the arguments, e.g. "NAME [--missing-ok]"
  std::string_view summary;             // one line for the command list
  std::string_view details;             // the body of `dvrctl <command> --help`
  Handler run;
};

std::span<const Command> command_table();

// The command whose words are the longest prefix of `words`; sets `consumed` to its word count.
// nullptr when no command matches.
const Command* find_command(std::span<const std::string> words, size_t& consumed);

// The commands whose words start with `prefix` (e.g. every "port ..." command).
std::vector<const Command*> commands_under(std::span<const std::string> prefix);

std::string command_name(const Command& cmd);  // "port add"

}  // namespace dvrctl

// The text of `dvrctl --help`, `dvrctl <command> --help` and `dvrctl <group> --help`.
#pragma once

#include <ostream>
#include <span>
#include <string>

#include "command.h"

namespace dvrctl {

void print_global_help(std::ostream& out);
void print_command_help(const Command& cmd, std::ostream& out);
// For a word that only prefixes commands, e.g. "port": lists its commands.
void print_group_help(std::span<const std::string> prefix, std::ostream& out);

}  // namespace dvrctl

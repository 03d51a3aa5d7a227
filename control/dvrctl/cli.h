// dvrctl's entry point minus the process: global options, dispatch through the command table,
// and the mapping of every failure to a message on `err` and an exit status.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace dvrctl {

// `args` is argv without the program name. Never throws.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace dvrctl

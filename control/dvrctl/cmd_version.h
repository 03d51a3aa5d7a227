// dvrctl version
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kVersionHelp =
    "Shows what dvrd reported in the handshake: its version, the API version, the host id,\n"
    "the host's agent mode ('unset' with the mode dvrd takes for it in parentheses) and\n"
    "physical network mappings (NAME=PORT), the number of dataplane workers and whether it\n"
    "runs in development mode; then dvrctl's own version.\n"
    "\n"
    "With --json, prints the handshake's HelloResponse message.\n";

int run_version(Session& session, const Invocation& inv);

}  // namespace dvrctl

// dvrctl remote-host add | remove | list (the other hosts of the overlay)
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kRemoteHostAddHelp =
    "Makes the host HOST known to dvrd (a RemoteHost object, sent in an UpsertRequest): the\n"
    "VXLAN tunnel endpoint that VM ports living on HOST ('vm-port add --host HOST') are\n"
    "reached through, and its DVR MAC (the source MAC of the frames HOST routes), which dvrd\n"
    "replaces with the gateway's MAC before delivering them. dvrd resolves the underlay next\n"
    "hop towards the tunnel IP by ARP on the uplink ('underlay show'). Repeating an\n"
    "identical add succeeds; an add that differs from the existing host fails unless\n"
    "--replace is given. dvrd checks the addresses, and that no two hosts (this one included)\n"
    "share a tunnel IP or a DVR MAC.\n"
    "\n"
    "Options:\n"
    "  --tunnel-ip IP  the host's VXLAN underlay address (required)\n"
    "  --dvr-mac MAC   the host's DVR MAC (required)\n"
    "  --replace       overwrite an existing remote host with different contents\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kRemoteHostRemoveHelp =
    "Removes the remote host HOST. Fails with CONFLICT while VM ports live on it or a\n"
    "network lists it in its flood list ('network add --flood'), unless --cascade is given.\n"
    "\n"
    "Options:\n"
    "  --cascade     also remove the VM ports that live on HOST and take HOST out of the\n"
    "                networks' flood lists, instead of failing\n"
    "  --missing-ok  succeed when there is no such remote host\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kRemoteHostListHelp =
    "Lists the remote hosts, one per row: HOST TUNNEL-IP DVR-MAC. 'underlay show' shows how\n"
    "each is reached.\n"
    "\n"
    "With --json, prints the ObjectList message.\n";

int run_remote_host_add(Session& session, const Invocation& inv);
int run_remote_host_remove(Session& session, const Invocation& inv);
int run_remote_host_list(Session& session, const Invocation& inv);

}  // namespace dvrctl

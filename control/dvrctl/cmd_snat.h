// dvrctl snat list | add | remove | sessions (which host runs each router's default SNAT, and
// the SNAT sessions of this host)
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "args.h"
#include "command.h"
#include "dvr.pb.h"

namespace dvrctl {

inline constexpr std::string_view kSnatListHelp =
    "Lists which host runs each router's default SNAT (the SnatBinding objects), one per\n"
    "row: ROUTER HOST SNAT-IP PORTS (the source ports SNAT gives out). A binding without its\n"
    "own SNAT address uses the router's external gateway IP: SNAT-IP shows that address\n"
    "followed by '(router gateway)', or '(router gateway, not set)' when the router has none\n"
    "or is unknown. A binding without a port range shows '1024-65535 (default)'.\n"
    "\n"
    "Options:\n"
    "  --router R  only router R's binding\n"
    "\n"
    "With --json, prints the ObjectList message (with --router, only R's binding); an empty\n"
    "snat_ip is left empty there.\n";

inline constexpr std::string_view kSnatAddHelp =
    "Makes the host HOST run the default SNAT of the router ROUTER (a SnatBinding object,\n"
    "keyed by the router, sent in an UpsertRequest): VMs behind the router without a floating\n"
    "IP reach its external network through HOST, which translates their source to the SNAT\n"
    "address. For a centralized router ('router add --distributed false') HOST also runs the\n"
    "whole router. A router has one binding: to move its SNAT to another host, give\n"
    "'snat add ROUTER --host OTHER --replace'. Repeating an identical add succeeds; an add\n"
    "that differs from the existing binding fails unless --replace is given. dvrd checks the\n"
    "address and the references.\n"
    "\n"
    "Options:\n"
    "  --host HOST       the host that runs the SNAT (required)\n"
    "  --snat-ip IP      the SNAT address (default: the router's external gateway IP,\n"
    "                    'router add --external-gateway-ip')\n"
    "  --ports MIN-MAX   the source ports SNAT may give out, 1 <= MIN <= MAX <= 65535\n"
    "                    (default: 1024-65535)\n"
    "  --replace         overwrite an existing binding with different contents (e.g. move\n"
    "                    the SNAT to another host)\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kSnatRemoveHelp =
    "Removes the SNAT binding of the router ROUTER: no host runs its default SNAT any more.\n"
    "\n"
    "Options:\n"
    "  --missing-ok  succeed when the router has no binding\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kSnatSessionsHelp =
    "Shows the SNAT sessions of the routers whose default SNAT this host runs (a\n"
    "SnatSessionsRequest), one per row: ROUTER PROTO INSIDE (the VM's address and port)\n"
    "OUTSIDE (the SNAT address and the port it was given) STATE IDLE EXPIRES (in seconds).\n"
    "Addresses show as IP:PORT for tcp and udp and as 'IP (id N)' for an ICMP echo (N is the\n"
    "echo identifier). Then how many sessions were shown of those that matched.\n"
    "\n"
    "Options:\n"
    "  --router R  only router R's sessions\n"
    "  --limit N   show at most N sessions (default: 1000)\n"
    "\n"
    "With --json, prints the SnatSessions message.\n";

int run_snat_list(Session& session, const Invocation& inv);
int run_snat_add(Session& session, const Invocation& inv);
int run_snat_remove(Session& session, const Invocation& inv);
int run_snat_sessions(Session& session, const Invocation& inv);

// The value of `option`, "MIN-MAX" with 1 <= MIN <= MAX <= 65535; nullopt when not given.
// Throws UsageError naming inv.name.
std::optional<dvr::api::v1::PortRange> snat_ports_option(const ParsedArgs& args,
                                                         const Invocation& inv,
                                                         std::string_view option);

// A SNAT port range as a table cell: "MIN-MAX", or "1024-65535 (default)" when unset (0-0).
std::string snat_ports_text(const dvr::api::v1::PortRange& r);

}  // namespace dvrctl

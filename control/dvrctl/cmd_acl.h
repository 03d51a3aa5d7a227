// dvrctl acl add | set-default | rule add | rule remove | show | list | remove (network ACLs),
// and the rule-field helpers the security-group commands (cmd_secgroup.cc) share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "args.h"
#include "command.h"
#include "dvr.pb.h"

namespace dvrctl {

inline constexpr std::string_view kAclAddHelp =
    "Creates the network ACL ID without rules (a NetworkAcl object, sent in an UpsertRequest).\n"
    "Add rules with 'acl rule add' and attach the ACL to a network with 'network set-acl' or\n"
    "'network add --acl'. Repeating an identical add succeeds; an add that differs from the\n"
    "existing ACL (its rules included) fails unless --replace is given.\n"
    "\n"
    "Options:\n"
    "  --tenant T                        the owning tenant's id\n"
    "  --default-ingress allow|deny      what happens to traffic routed into the network that\n"
    "                                    no ingress rule matches (default: deny)\n"
    "  --default-egress allow|deny       the same for traffic routed out of the network\n"
    "                                    (default: deny)\n"
    "  --replace                         overwrite an existing ACL with different contents;\n"
    "                                    this drops its rules ('acl set-default' keeps them)\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kAclSetDefaultHelp =
    "Sets the default action of the network ACL ID in one direction: what happens to the\n"
    "traffic no rule of that direction matches. Reads the ACL from dvrd (a ListRequest),\n"
    "changes default_ingress or default_egress and writes it back (an UpsertRequest with\n"
    "replace). Fails with NOT_FOUND when there is no such ACL.\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kAclRuleAddHelp =
    "Adds rule NUMBER (1 to 32766) to the network ACL ACL in the direction ingress (traffic\n"
    "routed into the network) or egress (routed out of it), with the action allow or deny.\n"
    "Rules are stateless and the matching rule with the lowest number decides. Reads the ACL\n"
    "from dvrd (a ListRequest), adds the rule and writes the ACL back (an UpsertRequest with\n"
    "replace); dvrd checks the rule. Repeating an identical add succeeds; fails when the ACL\n"
    "already has a different rule with this number in this direction, unless --replace is\n"
    "given.\n"
    "\n"
    "Options (a match option left out matches anything):\n"
    "  --protocol P               any (default), tcp, udp, icmp or a protocol number 0-255\n"
    "  --source CIDR              the source prefix, e.g. 10.0.0.0/8\n"
    "  --destination CIDR         the destination prefix\n"
    "  --source-ports MIN[-MAX]   source ports, one or a range (tcp and udp only)\n"
    "  --destination-ports MIN[-MAX]\n"
    "                             destination ports, one or a range (tcp and udp only)\n"
    "  --icmp-type T              the ICMP type 0-255 (icmp only)\n"
    "  --icmp-code C              the ICMP code 0-255 (icmp only, with --icmp-type)\n"
    "  --replace                  overwrite an existing rule with this number and direction\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kAclRuleRemoveHelp =
    "Removes rule NUMBER of the direction ingress or egress from the network ACL ACL: reads\n"
    "the ACL from dvrd (a ListRequest), drops the rule and writes the ACL back (an\n"
    "UpsertRequest with replace). Fails with NOT_FOUND when there is no such ACL or rule.\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kAclShowHelp =
    "Shows the network ACL ID: its tenant, its default actions with the packets each one\n"
    "decided (the packets no rule matched), then its rules sorted by direction (ingress\n"
    "first) and number, one per row: DIRECTION NUMBER ACTION PROTOCOL SOURCE SOURCE-PORTS\n"
    "DESTINATION DESTINATION-PORTS ICMP (TYPE or TYPE/CODE) HITS (packets the rule decided).\n"
    "'any' marks a protocol or prefix that matches anything, '-' ports or ICMP fields that\n"
    "are not restricted. The counters come from a FilterCountersRequest; they restart at\n"
    "zero when the ACL changes.\n"
    "\n"
    "With --json, prints the FilterCounters message ('acl list --json' has the rules).\n";

inline constexpr std::string_view kAclListHelp =
    "Lists the network ACLs, one per row: ID TENANT RULES (both directions) DEFAULT-INGRESS\n"
    "DEFAULT-EGRESS NETWORKS (the networks using the ACL, comma-separated). '-' marks an\n"
    "empty value.\n"
    "\n"
    "With --json, prints the ObjectList message (which also has the rules).\n";

inline constexpr std::string_view kAclRemoveHelp =
    "Removes the network ACL ID.\n"
    "\n"
    "Options:\n"
    "  --cascade     also detach it from the networks using it instead of failing\n"
    "  --missing-ok  succeed when there is no such ACL\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

int run_acl_add(Session& session, const Invocation& inv);
int run_acl_set_default(Session& session, const Invocation& inv);
int run_acl_rule_add(Session& session, const Invocation& inv);
int run_acl_rule_remove(Session& session, const Invocation& inv);
int run_acl_show(Session& session, const Invocation& inv);
int run_acl_list(Session& session, const Invocation& inv);
int run_acl_remove(Session& session, const Invocation& inv);

// Rule fields, shared with the security-group commands. Each throws UsageError naming inv.name.

// "ingress" or "egress".
dvr::api::v1::Direction parse_direction(const Invocation& inv, const std::string& text);
const char* direction_name(dvr::api::v1::Direction d);  // "ingress", "egress", "-"

// The value of `option`, "MIN" or "MIN-MAX" within 0-65535; nullopt when not given.
std::optional<dvr::api::v1::PortRange> port_range_option(const ParsedArgs& args,
                                                         const Invocation& inv,
                                                         std::string_view option);
// The value of `option` as a number 0-255 (an ICMP type or code); nullopt when not given.
std::optional<uint32_t> byte_option(const ParsedArgs& args, const Invocation& inv,
                                    std::string_view option);
// The value of `option`, which may not be empty; nullopt when not given.
std::optional<std::string> nonempty_option(const ParsedArgs& args, const Invocation& inv,
                                           std::string_view option);

// Table cells: "80", "80-90", "" when unrestricted (0-0); "any" for an empty protocol.
std::string port_range_text(const dvr::api::v1::PortRange& r);
std::string protocol_text(const std::string& protocol);
// "TYPE", "TYPE/CODE" or "" when unrestricted (no type).
std::string icmp_text(bool has_type, uint32_t type, bool has_code, uint32_t code);

}  // namespace dvrctl

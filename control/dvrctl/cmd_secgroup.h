// dvrctl secgroup add | rule add | rule remove | show | list | remove (security groups)
#pragma once

#include <string_view>

#include "command.h"

namespace dvrctl {

inline constexpr std::string_view kSecgroupAddHelp =
    "Creates the security group ID without rules (a SecurityGroup object, sent in an\n"
    "UpsertRequest). Add rules with 'secgroup rule add' and make VM ports members with\n"
    "'vm-port set-groups' or 'vm-port add --security-group'. A port with port security on\n"
    "that is a member of at least one group admits only what its groups' rules admit (and\n"
    "the replies). Repeating an identical add succeeds; an add that differs from the\n"
    "existing group (its rules included) fails unless --replace is given.\n"
    "\n"
    "Options:\n"
    "  --tenant T  the owning tenant's id\n"
    "  --replace   overwrite an existing group with different contents; this drops its rules\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kSecgroupRuleAddHelp =
    "Adds the rule RULE_ID to the security group GROUP. A rule allows connections in the\n"
    "direction ingress (to the member VMs) or egress (from them); it is stateful: the replies\n"
    "of an admitted connection pass too. Reads the group from dvrd (a ListRequest), adds the\n"
    "rule and writes the group back (an UpsertRequest with replace); dvrd checks the rule.\n"
    "Repeating an identical add succeeds; fails when the group already has a different rule\n"
    "RULE_ID, unless --replace is given.\n"
    "\n"
    "Options (a match option left out matches anything):\n"
    "  --protocol P             any (default), tcp, udp, icmp or a protocol number 0-255\n"
    "  --ports MIN[-MAX]        destination ports, one or a range (tcp and udp only)\n"
    "  --remote-ip CIDR         the remote end's prefix (the source for ingress, the\n"
    "                           destination for egress)\n"
    "  --remote-group GROUP     the remote end is any fixed IP of a member of GROUP (instead\n"
    "                           of --remote-ip)\n"
    "  --icmp-type T            the ICMP type 0-255 (icmp only)\n"
    "  --icmp-code C            the ICMP code 0-255 (icmp only, with --icmp-type)\n"
    "  --ethertype IPv4|IPv6    the IP version (default: IPv4; IPv6 rules are kept but\n"
    "                           dvrd forwards no IPv6)\n"
    "  --replace                overwrite an existing rule RULE_ID\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kSecgroupRuleRemoveHelp =
    "Removes the rule RULE_ID from the security group GROUP: reads the group from dvrd (a\n"
    "ListRequest), drops the rule and writes the group back (an UpsertRequest with replace).\n"
    "Established connections the remaining rules no longer admit are cut at their next\n"
    "packet. Fails with NOT_FOUND when there is no such group or rule.\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

inline constexpr std::string_view kSecgroupShowHelp =
    "Shows the security group ID: its tenant and member VM ports, then its rules, ingress\n"
    "first, one per row: DIRECTION RULE ETHERTYPE PROTOCOL PORTS (destination ports) REMOTE\n"
    "(a prefix, or group:GROUP) ICMP (TYPE or TYPE/CODE) HITS (connections the rule admitted,\n"
    "summed over the member ports; replies are not counted). 'any' marks a protocol or remote\n"
    "that matches anything, '-' ports or ICMP fields that are not restricted. The counters\n"
    "come from a FilterCountersRequest; they restart at zero when the rules of a port change.\n"
    "\n"
    "With --json, prints the FilterCounters message ('secgroup list --json' has the rules).\n";

inline constexpr std::string_view kSecgroupListHelp =
    "Lists the security groups, one per row: ID TENANT RULES PORTS (the number of member VM\n"
    "ports). '-' marks an empty value.\n"
    "\n"
    "With --json, prints the ObjectList message (which also has the rules).\n";

inline constexpr std::string_view kSecgroupRemoveHelp =
    "Removes the security group ID.\n"
    "\n"
    "Options:\n"
    "  --cascade     also take it out of its member VM ports and drop the rules of other\n"
    "                groups that name it as remote group, instead of failing\n"
    "  --missing-ok  succeed when there is no such group\n"
    "\n"
    "Prints nothing on success (with --json: {}) unless dvrd returns a message.\n";

int run_secgroup_add(Session& session, const Invocation& inv);
int run_secgroup_rule_add(Session& session, const Invocation& inv);
int run_secgroup_rule_remove(Session& session, const Invocation& inv);
int run_secgroup_show(Session& session, const Invocation& inv);
int run_secgroup_list(Session& session, const Invocation& inv);
int run_secgroup_remove(Session& session, const Invocation& inv);

}  // namespace dvrctl

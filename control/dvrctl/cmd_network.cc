#include "cmd_network.h"

#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "errors.h"
#include "objects.h"
#include "option_values.h"
#include "session.h"
#include "table.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

namespace {

// --flood all|off|HOST[,HOST...]: sets bum_flooding and bum_flood_hosts.
void set_flooding(const Invocation& inv, const std::string& text, v1::Network& network) {
  const std::string help_for = "dvrctl " + inv.name;
  if (text == "all") {
    network.set_bum_flooding(v1::BUM_FLOODING_ALL_HOSTS);
    return;
  }
  if (text == "off") {
    network.set_bum_flooding(v1::BUM_FLOODING_OFF);
    return;
  }
  network.set_bum_flooding(v1::BUM_FLOODING_LISTED);
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string host = text.substr(start, comma - start);
    if (host.empty()) {
      throw UsageError(inv.name + ": --flood: '" + text +
                           "' is not all, off or a comma-separated list of remote hosts",
                       help_for);
    }
    for (const std::string& h : network.bum_flood_hosts()) {
      if (h == host) {
        throw UsageError(inv.name + ": --flood: remote host '" + host + "' given twice", help_for);
      }
    }
    network.add_bum_flood_hosts(host);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

// The FLOOD column: "all", "off" or the listed hosts.
std::string flooding_text(const v1::Network& n) {
  switch (n.bum_flooding()) {
    case v1::BUM_FLOODING_ALL_HOSTS:
      return "all";
    case v1::BUM_FLOODING_OFF:
      return "off";
    case v1::BUM_FLOODING_LISTED: {
      std::string out;
      for (const std::string& h : n.bum_flood_hosts()) {
        if (!out.empty()) out += ',';
        out += h;
      }
      return out;
    }
    default:
      return "?";
  }
}

}  // namespace

int run_network_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv,
                                     {{"--segmentation-id", true},
                                      {"--tenant", true},
                                      {"--name", true},
                                      {"--mtu", true},
                                      {"--acl", true},
                                      {"--flood", true},
                                      {"--replace", false}},
                                     {"ID"}, 1);
  required_option(args, inv, "--segmentation-id");
  v1::Object obj;
  v1::Network& network = *obj.mutable_network();
  network.set_id(args.positional[0]);
  network.set_segmentation_id(u32_option(args, inv, "--segmentation-id").value_or(0));
  network.set_tenant_id(args.value("--tenant").value_or(""));
  network.set_name(args.value("--name").value_or(""));
  network.set_mtu(u32_option(args, inv, "--mtu").value_or(0));
  if (args.has("--acl")) network.set_network_acl_id(required_option(args, inv, "--acl"));
  if (const auto flood = args.value("--flood")) set_flooding(inv, *flood, network);
  return upsert_object(session, std::move(obj), args.has("--replace"));
}

int run_network_set_acl(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {}, {"NETWORK", "ACL|none"}, 2);
  const std::string& id = args.positional[0];
  const std::string& acl = args.positional[1];
  if (acl.empty()) {
    throw UsageError(inv.name + ": ACL may not be empty (give 'none' to detach the ACL)",
                     "dvrctl " + inv.name);
  }
  v1::ObjectList networks = list_objects(session, v1::OBJECT_KIND_NETWORK);
  for (v1::Object& obj : *networks.mutable_objects()) {
    if (!obj.has_network() || obj.network().id() != id) continue;
    obj.mutable_network()->set_network_acl_id(acl == "none" ? "" : acl);
    return upsert_object(session, std::move(obj), true);
  }
  throw RequestFailed(v1::STATUS_NOT_FOUND, "no network '" + id + "'");
}

int run_network_remove(Session& session, const Invocation& inv) {
  return delete_object(session, inv, v1::OBJECT_KIND_NETWORK, true);
}

int run_network_list(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  Table table({{"ID"},
               {"TENANT"},
               {"NAME"},
               {"SEG-ID", Align::kRight},
               {"MTU", Align::kRight},
               {"ACL"},
               {"FLOOD"}});
  print_objects(session, list_objects(session, v1::OBJECT_KIND_NETWORK), std::move(table),
                [](const v1::Object& obj) -> std::vector<std::string> {
                  if (!obj.has_network()) return {};
                  const v1::Network& n = obj.network();
                  return {n.id(),
                          n.tenant_id(),
                          n.name(),
                          std::to_string(n.segmentation_id()),
                          std::to_string(n.mtu()),
                          n.network_acl_id(),
                          flooding_text(n)};
                });
  return 0;
}

}  // namespace dvrctl

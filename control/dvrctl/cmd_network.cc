#include "cmd_network.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "errors.h"
#include "format.h"
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

v1::ProviderType parse_provider(const Invocation& inv, const std::string& text) {
  if (text == "overlay") return v1::PROVIDER_TYPE_OVERLAY;
  if (text == "flat") return v1::PROVIDER_TYPE_FLAT;
  if (text == "vlan") return v1::PROVIDER_TYPE_VLAN;
  throw UsageError(inv.name + ": --provider: '" + text + "' is not overlay, flat or vlan",
                   "dvrctl " + inv.name);
}

// Sets provider_type, physical_network and segmentation_id from --provider, --physnet, --vlan
// and --segmentation-id: an overlay network needs --segmentation-id (the VNI) and has no
// physical network; a flat one has no segmentation id; a vlan one (--vlan implies it) takes its
// VLAN id from --vlan or --segmentation-id, not both.
void set_provider(const ParsedArgs& args, const Invocation& inv, v1::Network& network) {
  const std::string help_for = "dvrctl " + inv.name;
  v1::ProviderType provider = v1::PROVIDER_TYPE_OVERLAY;
  if (const auto text = args.value("--provider")) provider = parse_provider(inv, *text);
  if (args.has("--vlan")) {
    if (args.has("--segmentation-id")) {
      throw UsageError(inv.name +
                           ": give --vlan or --segmentation-id, not both (a vlan network's "
                           "segmentation id is its VLAN id)",
                       help_for);
    }
    if (provider != v1::PROVIDER_TYPE_VLAN && args.has("--provider")) {
      throw UsageError(
          inv.name + ": --vlan is for vlan networks, not --provider " + *args.value("--provider"),
          help_for);
    }
    provider = v1::PROVIDER_TYPE_VLAN;
  }
  network.set_provider_type(provider);
  if (args.has("--physnet")) {
    if (provider == v1::PROVIDER_TYPE_OVERLAY) {
      throw UsageError(
          inv.name + ": --physnet is for flat and vlan networks (give --provider flat or vlan)",
          help_for);
    }
    network.set_physical_network(required_option(args, inv, "--physnet"));
  }
  switch (provider) {
    case v1::PROVIDER_TYPE_FLAT:
      if (args.has("--segmentation-id")) {
        throw UsageError(
            inv.name + ": a flat network takes no --segmentation-id (its frames are untagged)",
            help_for);
      }
      break;
    case v1::PROVIDER_TYPE_VLAN: {
      const char* option = args.has("--vlan") ? "--vlan" : "--segmentation-id";
      if (!args.has(option)) {
        throw UsageError(inv.name + ": missing --vlan (the VLAN id of a vlan network)", help_for);
      }
      const uint32_t vlan = u32_option(args, inv, option).value_or(0);
      if (vlan < 1 || vlan > 4094) {
        throw UsageError(inv.name + ": " + option + ": '" + *args.value(option) +
                             "' is not a VLAN id from 1 to 4094",
                         help_for);
      }
      network.set_segmentation_id(vlan);
      break;
    }
    default:
      required_option(args, inv, "--segmentation-id");
      network.set_segmentation_id(u32_option(args, inv, "--segmentation-id").value_or(0));
      break;
  }
}

// The SEG-ID column: the VNI or VLAN id; empty for a flat network without one.
std::string segmentation_text(const v1::Network& n) {
  if (n.provider_type() == v1::PROVIDER_TYPE_FLAT && n.segmentation_id() == 0) return "";
  return std::to_string(n.segmentation_id());
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
                                      {"--external", false},
                                      {"--provider", true},
                                      {"--physnet", true},
                                      {"--vlan", true},
                                      {"--replace", false}},
                                     {"ID"}, 1);
  v1::Object obj;
  v1::Network& network = *obj.mutable_network();
  network.set_id(args.positional[0]);
  set_provider(args, inv, network);
  network.set_external(args.has("--external"));
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
               {"EXTERNAL"},
               {"PROVIDER"},
               {"PHYSNET"},
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
                          yes_no(n.external()),
                          provider_type_name(n.provider_type()),
                          n.physical_network(),
                          segmentation_text(n),
                          std::to_string(n.mtu()),
                          n.network_acl_id(),
                          flooding_text(n)};
                });
  return 0;
}

}  // namespace dvrctl

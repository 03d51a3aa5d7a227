#include "cmd_vmport.h"

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

// "PREFIX" or "PREFIX@MAC".
v1::AllowedAddressPair parse_allowed_pair(const Invocation& inv, const std::string& text) {
  const size_t at = text.find('@');
  v1::AllowedAddressPair pair;
  pair.set_ip_prefix(text.substr(0, at));
  if (at != std::string::npos) pair.set_mac(text.substr(at + 1));
  if (pair.ip_prefix().empty() || (at != std::string::npos && pair.mac().empty())) {
    throw UsageError(inv.name + ": --allowed-pair: '" + text + "' is not PREFIX or PREFIX@MAC",
                     "dvrctl " + inv.name);
  }
  return pair;
}

std::string join(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

// Appends `group` to the port's security groups; `what` names where it came from.
void add_group(const Invocation& inv, const std::string& what, const std::string& group,
               v1::VmPort& port) {
  if (group.empty()) {
    throw UsageError(inv.name + ": " + what + ": a security group name may not be empty",
                     "dvrctl " + inv.name);
  }
  for (const std::string& g : port.security_group_ids()) {
    if (g == group) {
      throw UsageError(inv.name + ": " + what + ": security group '" + group + "' given twice",
                       "dvrctl " + inv.name);
    }
  }
  port.add_security_group_ids(group);
}

}  // namespace

int run_vm_port_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv,
                                     {{"--network", true},
                                      {"--mac", true},
                                      {"--ip", true, true},
                                      {"--allowed-pair", true, true},
                                      {"--no-port-security", false},
                                      {"--security-group", true, true},
                                      {"--port", true},
                                      {"--host", true},
                                      {"--replace", false}},
                                     {"ID"}, 1);
  v1::Object obj;
  v1::VmPort& port = *obj.mutable_vm_port();
  port.set_id(args.positional[0]);
  port.set_network_id(required_option(args, inv, "--network"));
  port.set_mac(required_option(args, inv, "--mac"));
  required_option(args, inv, "--ip");
  for (const std::string& ip : args.values("--ip")) {
    if (ip.empty()) {
      throw UsageError(inv.name + ": --ip needs a non-empty value", "dvrctl " + inv.name);
    }
    port.add_fixed_ips(ip);
  }
  for (const std::string& pair : args.values("--allowed-pair")) {
    *port.add_allowed_address_pairs() = parse_allowed_pair(inv, pair);
  }
  port.set_port_security_enabled(!args.has("--no-port-security"));
  for (const std::string& group : args.values("--security-group")) {
    add_group(inv, "--security-group", group, port);
  }
  if (args.has("--port") && args.has("--host")) {
    throw UsageError(inv.name +
                         ": give --port (a VM on this host) or --host (a VM on another host), "
                         "not both",
                     "dvrctl " + inv.name);
  }
  if (args.has("--port")) port.set_dataplane_port(required_option(args, inv, "--port"));
  if (args.has("--host")) port.set_host_id(required_option(args, inv, "--host"));
  return upsert_object(session, std::move(obj), args.has("--replace"));
}

int run_vm_port_set_groups(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {}, {"VMPORT", "GROUP[,GROUP...]|none"}, 2);
  const std::string& id = args.positional[0];
  const std::string& list = args.positional[1];
  v1::VmPort groups;  // only its security_group_ids
  if (list != "none") {
    size_t start = 0;
    while (true) {
      const size_t comma = list.find(',', start);
      add_group(inv, "'" + list + "'", list.substr(start, comma - start), groups);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  v1::ObjectList ports = list_objects(session, v1::OBJECT_KIND_VM_PORT);
  for (v1::Object& obj : *ports.mutable_objects()) {
    if (!obj.has_vm_port() || obj.vm_port().id() != id) continue;
    *obj.mutable_vm_port()->mutable_security_group_ids() = groups.security_group_ids();
    return upsert_object(session, std::move(obj), true);
  }
  throw RequestFailed(v1::STATUS_NOT_FOUND, "no VM port '" + id + "'");
}

int run_vm_port_remove(Session& session, const Invocation& inv) {
  return delete_object(session, inv, v1::OBJECT_KIND_VM_PORT, true);
}

int run_vm_port_list(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  Table table({{"ID"},
               {"NETWORK"},
               {"MAC"},
               {"IPS"},
               {"SECURITY"},
               {"DATAPLANE-PORT"},
               {"HOST"},
               {"GROUPS"}});
  print_objects(session, list_objects(session, v1::OBJECT_KIND_VM_PORT), std::move(table),
                [](const v1::Object& obj) -> std::vector<std::string> {
                  if (!obj.has_vm_port()) return {};
                  const v1::VmPort& p = obj.vm_port();
                  return {p.id(),
                          p.network_id(),
                          p.mac(),
                          join(p.fixed_ips()),
                          p.port_security_enabled() ? "on" : "off",
                          p.dataplane_port(),
                          p.host_id(),
                          join(p.security_group_ids())};
                });
  return 0;
}

}  // namespace dvrctl

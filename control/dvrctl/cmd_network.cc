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

int run_network_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv,
                                     {{"--segmentation-id", true},
                                      {"--tenant", true},
                                      {"--name", true},
                                      {"--mtu", true},
                                      {"--acl", true},
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
  Table table(
      {{"ID"}, {"TENANT"}, {"NAME"}, {"SEG-ID", Align::kRight}, {"MTU", Align::kRight}, {"ACL"}});
  print_objects(session, list_objects(session, v1::OBJECT_KIND_NETWORK), std::move(table),
                [](const v1::Object& obj) -> std::vector<std::string> {
                  if (!obj.has_network()) return {};
                  const v1::Network& n = obj.network();
                  return {n.id(),
                          n.tenant_id(),
                          n.name(),
                          std::to_string(n.segmentation_id()),
                          std::to_string(n.mtu()),
                          n.network_acl_id()};
                });
  return 0;
}

}  // namespace dvrctl

#include "cmd_snat.h"

#include <charconv>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "errors.h"
#include "json_output.h"
#include "objects.h"
#include "option_values.h"
#include "session.h"
#include "table.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

namespace {

using std::to_string;

// `text` as a port number 1-65535; nullopt when it is not one.
std::optional<uint32_t> parse_port(std::string_view text) {
  uint32_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 1 || value > 65535) {
    return std::nullopt;
  }
  return value;
}

// "IP:PORT" for tcp and udp, "IP (id N)" for an ICMP echo, else "IP".
std::string endpoint_text(const std::string& protocol, const std::string& ip, uint32_t port) {
  if (protocol == "tcp" || protocol == "udp") return ip + ":" + to_string(port);
  if (protocol == "icmp" && port != 0) return ip + " (id " + to_string(port) + ")";
  return ip;
}

std::string seconds_text(uint32_t s) {
  return to_string(s) + "s";
}

}  // namespace

std::optional<v1::PortRange> snat_ports_option(const ParsedArgs& args, const Invocation& inv,
                                               std::string_view option) {
  const auto text = args.value(option);
  if (!text) return std::nullopt;
  const size_t dash = text->find('-');
  const auto min = dash == std::string::npos ? std::nullopt
                                             : parse_port(std::string_view(*text).substr(0, dash));
  const auto max = dash == std::string::npos ? std::nullopt
                                             : parse_port(std::string_view(*text).substr(dash + 1));
  if (!min || !max || *min > *max) {
    throw UsageError(inv.name + ": " + std::string(option) + ": '" + *text +
                         "' is not MIN-MAX with 1 <= MIN <= MAX <= 65535",
                     "dvrctl " + inv.name);
  }
  v1::PortRange range;
  range.set_min(*min);
  range.set_max(*max);
  return range;
}

std::string snat_ports_text(const v1::PortRange& r) {
  if (r.min() == 0 && r.max() == 0) return "1024-65535 (default)";
  return to_string(r.min()) + "-" + to_string(r.max());
}

int run_snat_list(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {{"--router", true}}, {}, 0);
  const auto router = args.value("--router");
  if (router) required_option(args, inv, "--router");

  v1::ObjectList all = list_objects(session, v1::OBJECT_KIND_SNAT_BINDING);
  v1::ObjectList bindings;
  bool uses_gateway = false;
  for (v1::Object& obj : *all.mutable_objects()) {
    if (!obj.has_snat_binding()) continue;
    if (router && obj.snat_binding().router_id() != *router) continue;
    uses_gateway = uses_gateway || obj.snat_binding().snat_ip().empty();
    *bindings.add_objects() = std::move(obj);
  }
  if (session.json()) {
    print_json(bindings, session.out());
    return 0;
  }
  // An empty snat_ip means the router's external gateway IP: look it up.
  std::map<std::string, std::string> gateway_ips;
  if (uses_gateway) {
    const v1::ObjectList routers = list_objects(session, v1::OBJECT_KIND_ROUTER);
    for (const v1::Object& obj : routers.objects()) {
      if (obj.has_router()) gateway_ips[obj.router().id()] = obj.router().external_gateway_ip();
    }
  }
  Table table({{"ROUTER"}, {"HOST"}, {"SNAT-IP"}, {"PORTS"}});
  print_objects(session, bindings, std::move(table),
                [&gateway_ips](const v1::Object& obj) -> std::vector<std::string> {
                  const v1::SnatBinding& b = obj.snat_binding();
                  std::string snat_ip = b.snat_ip();
                  if (snat_ip.empty()) {
                    const auto it = gateway_ips.find(b.router_id());
                    snat_ip = it == gateway_ips.end() || it->second.empty()
                                  ? "(router gateway, not set)"
                                  : it->second + " (router gateway)";
                  }
                  return {b.router_id(), b.host_id(), snat_ip, snat_ports_text(b.ports())};
                });
  return 0;
}

int run_snat_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(
      inv, {{"--host", true}, {"--snat-ip", true}, {"--ports", true}, {"--replace", false}},
      {"ROUTER"}, 1);
  v1::Object obj;
  v1::SnatBinding& binding = *obj.mutable_snat_binding();
  binding.set_router_id(args.positional[0]);
  binding.set_host_id(required_option(args, inv, "--host"));
  if (args.has("--snat-ip")) binding.set_snat_ip(required_option(args, inv, "--snat-ip"));
  if (const auto ports = snat_ports_option(args, inv, "--ports")) {
    *binding.mutable_ports() = *ports;
  }
  return upsert_object(session, std::move(obj), args.has("--replace"));
}

int run_snat_remove(Session& session, const Invocation& inv) {
  return delete_object(session, inv, v1::OBJECT_KIND_SNAT_BINDING, false, "ROUTER");
}

int run_snat_sessions(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {{"--router", true}, {"--limit", true}}, {}, 0);
  v1::Request req;
  v1::SnatSessionsRequest& sessions_req = *req.mutable_snat_sessions();
  if (args.has("--router")) sessions_req.set_router_id(required_option(args, inv, "--router"));
  if (const auto limit = u32_option(args, inv, "--limit")) {
    if (*limit == 0) {
      throw UsageError(inv.name + ": --limit: '0' is not a number from 1 to 4294967295",
                       "dvrctl " + inv.name);
    }
    sessions_req.set_limit(*limit);
  }

  const v1::Response resp = session.call(std::move(req));
  std::ostream& out = session.out();
  if (session.json()) {
    print_json(resp.snat_sessions(), out);
    return 0;
  }
  const v1::SnatSessions& s = resp.snat_sessions();
  Table table({{"ROUTER"},
               {"PROTO"},
               {"INSIDE"},
               {"OUTSIDE"},
               {"STATE"},
               {"IDLE", Align::kRight},
               {"EXPIRES", Align::kRight}});
  for (const v1::SnatSession& e : s.sessions()) {
    table.add_row({e.router_id(), e.protocol(),
                   endpoint_text(e.protocol(), e.inside_ip(), e.inside_port()),
                   endpoint_text(e.protocol(), e.outside_ip(), e.outside_port()), e.state(),
                   seconds_text(e.idle_seconds()), seconds_text(e.expires_in_seconds())});
  }
  table.print(out);
  out << "\n" << s.sessions_size() << " of " << s.matched() << " matching sessions shown\n";
  return 0;
}

}  // namespace dvrctl

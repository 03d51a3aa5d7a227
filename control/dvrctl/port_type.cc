#include "port_type.h"

#include <array>
#include <utility>

namespace dvrctl {

namespace v1 = dvr::api::v1;

namespace {

constexpr std::array<std::pair<v1::PortType, std::string_view>, 7> kNames = {{
    {v1::PORT_TYPE_VHOST_USER, "vhost-user"},
    {v1::PORT_TYPE_TAP, "tap"},
    {v1::PORT_TYPE_AF_PACKET, "af-packet"},
    {v1::PORT_TYPE_PCAP, "pcap"},
    {v1::PORT_TYPE_NULL, "null"},
    {v1::PORT_TYPE_RING, "ring"},
    {v1::PORT_TYPE_PCI, "pci"},
}};

bool same_name(std::string_view given, std::string_view canonical) {
  if (given.size() != canonical.size()) return false;
  for (size_t i = 0; i < given.size(); ++i) {
    const char want = canonical[i];
    if (given[i] != want && !(want == '-' && given[i] == '_')) return false;
  }
  return true;
}

}  // namespace

std::optional<v1::PortType> parse_port_type(std::string_view name) {
  for (const auto& [type, canonical] : kNames) {
    if (same_name(name, canonical)) return type;
  }
  return std::nullopt;
}

std::string port_type_name(v1::PortType type) {
  for (const auto& [t, name] : kNames) {
    if (t == type) return std::string(name);
  }
  if (type == v1::PORT_TYPE_UNSPECIFIED) return "unspecified";
  return "type-" + std::to_string(static_cast<int>(type));
}

std::string port_type_list() {
  std::string out;
  for (const auto& entry : kNames) {
    if (!out.empty()) out += ", ";
    out += entry.second;
  }
  return out;
}

}  // namespace dvrctl

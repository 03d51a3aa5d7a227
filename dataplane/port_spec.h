// What an operator says about a port, checked and turned into DPDK device arguments.
// DPDK-free so that it can be unit tested and reused by every front end (--port, the API).
#pragma once

#include <map>
#include <optional>
#include <string>

namespace dvr::dp {

enum class PortType { kVhostUser, kTap, kAfPacket, kPcap, kNull, kRing, kPci };

struct PortSpec {
  std::string name;
  PortType type = PortType::kNull;
  std::map<std::string, std::string> args;
  std::string xconnect;  // peer port name, empty for none
};

const char* port_type_name(PortType t);                         // "vhost-user", "tap", ...
std::optional<PortType> parse_port_type(const std::string& s);  // accepts the names above
std::string port_type_list();                                   // "vhost-user, tap, ..." for errors

// Empty when valid, else one sentence saying what is wrong.
std::string validate_port_spec(const PortSpec& spec);

struct DeviceArgs {
  std::string device_name;  // the DPDK device (and ethdev) name, e.g. "net_tap_vm1"
  std::string devargs;      // for rte_dev_probe, e.g. "net_tap_vm1,iface=dvt1"
};

// `queues` is the number of queue pairs to ask of drivers that take it as an argument.
DeviceArgs device_args(const PortSpec& spec, unsigned queues);

// Parses the command-line form NAME=TYPE[,key=value...] (key "xconnect" names the peer).
// Returns the spec, or sets `error`.
std::optional<PortSpec> parse_port_spec_text(const std::string& text, std::string& error);

}  // namespace dvr::dp

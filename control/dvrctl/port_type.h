// Port type names on the command line ("vhost-user", "tap", ...) and the API's PortType.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dvr.pb.h"

namespace dvrctl {

// Accepts the names of port_type_list() and their underscore spellings (vhost_user, af_packet).
std::optional<dvr::api::v1::PortType> parse_port_type(std::string_view name);

// "vhost-user", "tap", ...; "unspecified" or "type-N" for values this dvrctl does not know.
std::string port_type_name(dvr::api::v1::PortType type);

std::string port_type_list();  // "vhost-user, tap, af-packet, pcap, null, ring, pci"

}  // namespace dvrctl

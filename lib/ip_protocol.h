// IP protocol names as the control API and dvrctl spell them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dvr {

inline constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17;

// "any" or "" -> kAnyProtocol; "tcp", "udp", "icmp" (any case) or a number 0..255.
inline constexpr int kAnyProtocol = -1;
std::optional<int> parse_ip_protocol(std::string_view s);
// "tcp", "udp", "icmp", "any" or the number.
std::string ip_protocol_name(int protocol);

}  // namespace dvr

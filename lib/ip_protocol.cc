#include "ip_protocol.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace dvr {

std::optional<int> parse_ip_protocol(std::string_view s) {
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.empty() || lower == "any") return kAnyProtocol;
  if (lower == "tcp") return kProtoTcp;
  if (lower == "udp") return kProtoUdp;
  if (lower == "icmp") return kProtoIcmp;
  int n = 0;
  const auto [end, ec] = std::from_chars(lower.data(), lower.data() + lower.size(), n);
  if (ec != std::errc() || end != lower.data() + lower.size() || n < 0 || n > 255) {
    return std::nullopt;
  }
  return n;
}

std::string ip_protocol_name(int protocol) {
  switch (protocol) {
    case kAnyProtocol:
      return "any";
    case kProtoTcp:
      return "tcp";
    case kProtoUdp:
      return "udp";
    case kProtoIcmp:
      return "icmp";
    default:
      return std::to_string(protocol);
  }
}

}  // namespace dvr

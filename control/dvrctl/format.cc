#include "format.h"

#include <cstdio>

namespace dvrctl {

namespace v1 = dvr::api::v1;

std::string one_decimal(double value) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof(buf), "%.1f", value);
  if (n < 0) return "?";
  return std::string(
      buf, static_cast<size_t>(n) < sizeof(buf) ? static_cast<size_t>(n) : sizeof(buf) - 1);
}

std::string printable(std::string s) {
  for (char& c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = '?';
  }
  return s;
}

std::string percent(uint64_t part, uint64_t rest) {
  const double total = static_cast<double>(part) + static_cast<double>(rest);
  if (total == 0) return one_decimal(0);
  return one_decimal(static_cast<double>(part) / total * 100.0);
}

std::string ratio(uint64_t num, uint64_t den) {
  if (den == 0) return one_decimal(0);
  return one_decimal(static_cast<double>(num) / static_cast<double>(den));
}

const char* link_state_name(v1::LinkState s) {
  switch (s) {
    case v1::LINK_STATE_UP:
      return "up";
    case v1::LINK_STATE_DOWN:
      return "down";
    default:
      return "unknown";
  }
}

const char* agent_mode_name(v1::AgentMode m) {
  switch (m) {
    case v1::AGENT_MODE_UNSPECIFIED:
      return "unset";
    case v1::AGENT_MODE_DVR:
      return "dvr";
    case v1::AGENT_MODE_DVR_SNAT:
      return "dvr_snat";
    case v1::AGENT_MODE_LEGACY:
      return "legacy";
    default:
      return "?";
  }
}

const char* provider_type_name(v1::ProviderType t) {
  switch (t) {
    case v1::PROVIDER_TYPE_OVERLAY:
      return "overlay";
    case v1::PROVIDER_TYPE_FLAT:
      return "flat";
    case v1::PROVIDER_TYPE_VLAN:
      return "vlan";
    default:
      return "?";
  }
}

}  // namespace dvrctl

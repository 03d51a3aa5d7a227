// Turning API values into table cells.
#pragma once

#include <cstdint>
#include <string>

#include "dvr.pb.h"

namespace dvrctl {

// `value` with one decimal, e.g. "12.5".
std::string one_decimal(double value);

// part / (part + rest) * 100 with one decimal; "0.0" when both are 0.
std::string percent(uint64_t part, uint64_t rest);

// num / den with one decimal; "0.0" when den is 0.
std::string ratio(uint64_t num, uint64_t den);

const char* link_state_name(dvr::api::v1::LinkState s);  // "up", "down", "unknown"

// "dvr", "dvr_snat", "legacy"; "unset" for AGENT_MODE_UNSPECIFIED, "?" for an unknown value.
const char* agent_mode_name(dvr::api::v1::AgentMode m);

// "overlay", "flat", "vlan"; "?" for an unknown value.
const char* provider_type_name(dvr::api::v1::ProviderType t);

// `s` with control characters (terminal escapes, newlines) replaced by '?'.
std::string printable(std::string s);

// "yes" / "no".
inline const char* yes_no(bool b) {
  return b ? "yes" : "no";
}

}  // namespace dvrctl

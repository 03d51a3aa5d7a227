// Small pieces shared by the tenant model's validation files (tenant_model.cc and
// north_south_rules.cc): error constructors, quoting, idempotent puts, address checks.
#pragma once

#include <google/protobuf/util/message_differencer.h>

#include <map>
#include <optional>
#include <string>

#include "net_addr.h"
#include "tenant_model.h"

namespace dvr::model_helpers {

namespace v1 = api::v1;

inline ModelError invalid(std::string msg) {
  return {v1::STATUS_INVALID_ARGUMENT, std::move(msg)};
}
inline ModelError not_found(std::string msg) {
  return {v1::STATUS_NOT_FOUND, std::move(msg)};
}
inline ModelError conflict(std::string msg) {
  return {v1::STATUS_CONFLICT, std::move(msg)};
}

inline std::string q(const std::string& s) {
  return "'" + s + "'";
}

inline bool same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// Stores `obj` under `key`, honouring idempotency: identical is fine, different needs replace.
template <typename T>
std::optional<ModelError> put_as(std::map<std::string, T>& map, const std::string& key,
                                 const T& obj, bool replace, const char* kind) {
  if (key.empty()) return invalid(std::string(kind) + " without an id");
  auto it = map.find(key);
  if (it != map.end() && !same(it->second, obj) && !replace) {
    return ModelError{v1::STATUS_ALREADY_EXISTS,
                      std::string(kind) + " " + q(key) +
                          " already exists with different contents (send it with replace to "
                          "change it)"};
  }
  map[key] = obj;
  return std::nullopt;
}

// Objects keyed by their `id` field.
template <typename T>
std::optional<ModelError> put(std::map<std::string, T>& map, const T& obj, bool replace,
                              const char* kind) {
  return put_as(map, obj.id(), obj, replace, kind);
}

// An address a VTEP can have: not 0.0.0.0/8, loopback, multicast, class E or broadcast.
inline bool unicast_ipv4(uint32_t ip) {
  const uint32_t first = ip >> 24;
  return first != 0 && first != 127 && first < 224;
}

// Inside `p`, and neither its network nor its broadcast address (for prefixes up to /30).
inline bool host_address_in(const Ipv4Prefix& p, uint32_t ip) {
  if (!p.contains(ip)) return false;
  return p.depth >= 31 || (ip != p.addr && ip != (p.addr | ~p.mask()));
}

// Canonical forms, so that "AA:BB:.." and "aa:bb:.." are the same object.
inline std::optional<ModelError> normalize_mac(std::string& mac, const std::string& what) {
  const auto m = parse_mac(mac);
  if (!m || !is_unicast_mac(*m))
    return invalid(what + ": " + q(mac) + " is not a unicast MAC address");
  mac = format_mac(*m);
  return std::nullopt;
}

}  // namespace dvr::model_helpers

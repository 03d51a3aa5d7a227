// The sessions of one router's default SNAT (PAT to one SNAT address), shared by every worker
// and lock-free. See docs/north-south.md, "Default SNAT".
//
// Mapping. Endpoint-independent (RFC 4787 REQ-1): one inside endpoint (VM address, port) of one
// protocol gets one outside port, whatever it talks to; filtering is endpoint-independent too
// (the VM's security groups still judge what comes back). ICMP echo uses its identifier as the
// port. So an outside port names at most one session per protocol, and the table is an array of
// slots indexed by outside port: the return direction is one load, no hash.
//
// Finding a session from the inside: the inside endpoint hashes to kProbes candidate ports; its
// session is in one of them. A new session takes the first free (or expired) candidate with a
// compare-and-swap, so two workers never take one port; the range is exhausted for a new
// endpoint when all of its candidates are busy (counted, the packet dropped). Two workers that
// see the first packets of one endpoint at the same instant may create two sessions; lookups
// then use the first in probe order and the other ages out.
//
// Ageing. Every packet stamps its session; the state (TCP handshake and teardown, or "replied"
// for UDP) picks the idle timeout. The control thread's sweep frees expired slots; until then an
// expired session still translates replies, and a new endpoint may reclaim it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "../filter/conn_table.h"

namespace dvr::dp {

enum class NatProto : uint8_t { kTcp, kUdp, kIcmp, kCount };
inline constexpr size_t kNatProtoCount = static_cast<size_t>(NatProto::kCount);
const char* nat_proto_name(NatProto p);  // "tcp", "udp", "icmp"
// TCP, UDP or ICMP by IP protocol number; false for the others.
bool nat_proto_of(uint8_t ip_protocol, NatProto& p);

struct SnatSessionView {
  NatProto proto;
  uint32_t inside_ip;
  uint16_t inside_port;
  uint16_t outside_port;
  const char* state;
  uint32_t idle_ms;
  uint32_t expires_in_ms;  // 0: expired, not yet swept
};

class SnatPool {
 public:
  static constexpr uint32_t kProbes = 16;

  // Ports [port_min, port_max] of `snat_ip` (host order). Allocates 16 bytes per port and
  // protocol on the calling (control) thread. Throws std::invalid_argument on an empty range.
  SnatPool(uint32_t snat_ip, uint16_t port_min, uint16_t port_max, const ConnTimeouts& timeouts);
  ~SnatPool();
  SnatPool(const SnatPool&) = delete;
  SnatPool& operator=(const SnatPool&) = delete;

  uint32_t snat_ip() const { return snat_ip_; }
  uint16_t port_min() const { return port_min_; }
  uint16_t port_max() const { return port_max_; }

  enum class Result : uint8_t { kFound, kCreated, kExhausted };
  // Worker, inside -> outside: the outside port of the endpoint's session, created if needed.
  // `tcp_flags` advance a TCP session's state (ignored for other protocols).
  Result outbound(NatProto p, uint32_t inside_ip, uint16_t inside_port, uint8_t tcp_flags,
                  uint32_t now_ms, uint16_t& outside_port);
  // Worker: the outside port of an existing session, without creating or refreshing one (to
  // translate an ICMP error a VM sends about a reply it received).
  bool find_outbound(NatProto p, uint32_t inside_ip, uint16_t inside_port,
                     uint16_t& outside_port) const;
  // Worker, outside -> inside: the inside endpoint that holds `outside_port`. `refresh`: the
  // packet belongs to the session (not an ICMP error about it) and stamps it.
  bool inbound(NatProto p, uint16_t outside_port, uint8_t tcp_flags, uint32_t now_ms, bool refresh,
               uint32_t& inside_ip, uint16_t& inside_port);

  // Control thread: frees up to `max_slots` slots' expired sessions, continuing where the last
  // call stopped. Returns how many it freed.
  uint32_t sweep(uint32_t now_ms, uint32_t max_slots);
  uint32_t slot_count() const { return static_cast<uint32_t>(range_) * kNatProtoCount; }
  // Control thread: live sessions by protocol, and every live session.
  void count_live(uint32_t now_ms, uint64_t (&live)[kNatProtoCount]) const;
  void for_each(uint32_t now_ms, const std::function<bool(const SnatSessionView&)>& fn) const;

  uint64_t exhausted() const { return exhausted_.load(std::memory_order_relaxed); }
  uint64_t expired() const { return expired_; }

 private:
  struct Slot;

  Slot* slot(NatProto p, uint32_t index) const;
  uint32_t probe(NatProto p, uint32_t inside_ip, uint16_t inside_port, uint32_t k) const;
  uint32_t timeout_ms(NatProto p, uint32_t state) const;
  bool expired(NatProto p, const Slot& s, uint32_t now_ms) const;

  uint32_t snat_ip_;
  uint16_t port_min_, port_max_;
  uint32_t range_;
  ConnTimeouts timeouts_;
  Slot* slots_ = nullptr;  // [proto][port - port_min]
  std::atomic<uint64_t> exhausted_{0};
  uint64_t expired_ = 0;  // control thread only
  uint32_t sweep_cursor_ = 0;
};

}  // namespace dvr::dp

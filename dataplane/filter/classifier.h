// A compiled IPv4 5-tuple rule set (DPDK rte_acl), shared by network ACLs and security groups.
//
// Built on the control thread, then read-only: any number of workers may classify against one
// Classifier at the same time. A rule set is replaced by building a new Classifier and publishing
// it in a new configuration version (RCU), never by editing one in place.
//
// The classifier reads the packet where it lies: the input of packet i is the address of its
// IPv4 header (no options: dvrd drops packets with options before filtering). The fields are:
//   protocol                 (byte 9)
//   source / destination IP  (bytes 12 / 16)
//   "source port"            (bytes 20-21): TCP/UDP source port; for ICMP, type << 8 | code
//   "destination port"       (bytes 22-23): TCP/UDP destination port
// The classifier may read up to 24 bytes from the IPv4 header, so the input must be readable for
// that length (an mbuf data area always is).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct rte_acl_ctx;

namespace dvr::dp {

struct ClassifierRule {
  // Values in host byte order. A field matches anything with its "any" value.
  uint8_t protocol = 0;
  bool any_protocol = true;
  uint32_t src_addr = 0;  // masked to src_depth bits
  uint8_t src_depth = 0;  // 0: any
  uint32_t dst_addr = 0;
  uint8_t dst_depth = 0;
  uint16_t src_port_min = 0, src_port_max = UINT16_MAX;  // ICMP: type << 8 | code range
  uint16_t dst_port_min = 0, dst_port_max = UINT16_MAX;
  // Of all matching rules the one with the highest priority wins (0 .. kMaxPriority); among
  // equal priorities, the rule listed first.
  int32_t priority = 0;
  // What classify() returns for a packet this rule wins; must be >= 1 (0 means "no match").
  uint32_t userdata = 1;
};

class Classifier {
 public:
  static constexpr int32_t kMaxPriority = 0x1fffffff;  // RTE_ACL_MAX_PRIORITY
  static constexpr uint32_t kNoMatch = 0;

  // Compiles `rules` (needs an initialised EAL: rte_acl allocates from DPDK memory). An empty
  // rule set is valid and matches nothing. On failure returns nullptr and says why in `error`.
  static std::unique_ptr<Classifier> build(const std::vector<ClassifierRule>& rules,
                                           std::string* error);
  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // results[i] = userdata of the winning rule for ipv4_headers[i], or kNoMatch. Any n; safe from
  // any number of threads at once; no allocation, no locks.
  void classify(const uint8_t* const* ipv4_headers, uint32_t* results, uint32_t n) const;

  size_t rule_count() const { return rule_count_; }
  // DPDK memory held by the compiled context (measured at build time).
  size_t memory_bytes() const { return memory_bytes_; }

 private:
  Classifier() = default;
  rte_acl_ctx* ctx_ = nullptr;  // nullptr for an empty rule set
  size_t rule_count_ = 0;
  size_t memory_bytes_ = 0;
};

// Writes a minimal 24-byte IPv4 header + ports (no options) for a 5-tuple, so that a flow that is
// not in a packet (a conntrack entry being re-checked) can be classified. Host-order inputs.
void make_classifier_input(uint8_t (&buf)[24], uint8_t protocol, uint32_t src_addr,
                           uint32_t dst_addr, uint16_t src_port, uint16_t dst_port);

}  // namespace dvr::dp

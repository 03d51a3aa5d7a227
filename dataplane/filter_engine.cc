#include "filter_engine.h"

#include <algorithm>

#include <rte_cycles.h>
#include <rte_ip.h>

#include "filter/conn_table.h"
#include "filter/flow_cache.h"
#include "filter_state.h"
#include "packet.h"

namespace dvr::dp {

namespace {

constexpr uint8_t kIpProtoIcmp = 1, kIpProtoTcp = 6, kIpProtoUdp = 17;
constexpr uint8_t kIcmpEchoReply = 0, kIcmpEchoRequest = 8;
// ICMP echo. An echo request is keyed (id -> 0x0800) and its reply (0x0800 -> id): the same two
// endpoints, which ConnTable orders like TCP/UDP ones, so both belong to one connection. 0x0800 is
// what the classifier sees for "type 8, code 0", and no other ICMP key has it as a port.
constexpr uint16_t kEchoRequestTypeCode = kIcmpEchoKeyPort;
static_assert(kEchoRequestTypeCode == kIcmpEchoRequest << 8);

bool is_icmp_error(uint8_t type) {
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

uint16_t be16_at(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// The minimum transport header the filters read, per protocol.
uint16_t l4_needed(uint8_t proto) {
  switch (proto) {
    case kIpProtoTcp:
      return 20;
    case kIpProtoUdp:
    case kIpProtoIcmp:
      return 8;
    default:
      return 0;
  }
}

// `l4` points at a transport header of at least l4_needed() bytes.
void fill_ports(FlowKey& key, uint8_t proto, const uint8_t* l4) {
  if (proto == kIpProtoTcp || proto == kIpProtoUdp) {
    key.src_port = be16_at(l4);
    key.dst_port = be16_at(l4 + 2);
  } else if (proto == kIpProtoIcmp) {
    const uint8_t type = l4[0];
    if (type == kIcmpEchoRequest) {
      key.src_port = be16_at(l4 + 4);
      key.dst_port = kEchoRequestTypeCode;
    } else if (type == kIcmpEchoReply) {
      key.src_port = kEchoRequestTypeCode;
      key.dst_port = be16_at(l4 + 4);
    } else {
      key.src_port = static_cast<uint16_t>(type << 8 | l4[1]);
      key.dst_port = 0;
    }
  }
}

// The TCP flags byte of a packet (0 for other protocols; the transport header was checked).
uint8_t tcp_flags_of(const uint8_t* ip) {
  return ip[9] == kIpProtoTcp ? ip[sizeof(rte_ipv4_hdr) + 13] : 0;
}

FlowKey flow_key(const uint8_t* ip, uint16_t zone) {
  FlowKey key;
  key.protocol = ip[9];
  key.src_ip = rte_be_to_cpu_32(reinterpret_cast<const rte_ipv4_hdr*>(ip)->src_addr);
  key.dst_ip = rte_be_to_cpu_32(reinterpret_cast<const rte_ipv4_hdr*>(ip)->dst_addr);
  key.zone = zone;
  fill_ports(key, key.protocol, ip + sizeof(rte_ipv4_hdr));
  return key;
}

// The connection an ICMP error is about: the header it quotes, as its sender sent it. False when
// the quote is too short to say.
bool quoted_flow(const uint8_t* ip, uint16_t ip_len, uint16_t zone, FlowKey& key) {
  constexpr uint16_t kQuoteAt = sizeof(rte_ipv4_hdr) + 8;
  if (ip_len < kQuoteAt + sizeof(rte_ipv4_hdr)) return false;
  const uint8_t* inner = ip + kQuoteAt;
  const uint16_t inner_hl = static_cast<uint16_t>((inner[0] & 0x0f) * 4);
  if ((inner[0] >> 4) != 4 || inner_hl < sizeof(rte_ipv4_hdr)) return false;
  const uint8_t proto = inner[9];
  if (ip_len < kQuoteAt + inner_hl + l4_needed(proto)) return false;
  key.protocol = proto;
  key.src_ip = rte_be_to_cpu_32(reinterpret_cast<const rte_ipv4_hdr*>(inner)->src_addr);
  key.dst_ip = rte_be_to_cpu_32(reinterpret_cast<const rte_ipv4_hdr*>(inner)->dst_addr);
  key.zone = zone;
  fill_ports(key, proto, inner + inner_hl);
  return true;
}

// The classifier input that stands for a connection's first packet (to re-check it).
void flow_input(const FlowKey& k, uint8_t (&buf)[24]) {
  uint16_t sport = k.src_port, dport = k.dst_port;
  if (k.protocol == kIpProtoIcmp) {
    if (k.dst_port == kEchoRequestTypeCode) {
      sport = kEchoRequestTypeCode;  // the first packet was an echo request: type 8, code 0
    } else if (k.src_port == kEchoRequestTypeCode) {
      sport = 0;  // an echo reply (type 0, code 0) seen first
    }
    dport = 0;
  }
  make_classifier_input(buf, k.protocol, k.src_ip, k.dst_ip, sport, dport);
}

class FilterRun {
 public:
  FilterRun(Batch& batch, WorkerContext& ctx, FilterJob* jobs, uint16_t n, bool source_checked)
      : batch_(batch),
        ctx_(ctx),
        l3_(*ctx.l3()),
        jobs_(jobs),
        n_(n),
        source_checked_(source_checked) {}

  // Packets the filters cannot read are dropped here, before any filter.
  void check_packets();
  // Packets of flows the filters recently allowed pass here, judged by the worker's cache; the
  // steps below skip them.
  void cached_verdicts(FlowCache& cache, uint16_t src_net);
  // Whether any packet is left for the full path.
  bool any_pending() const { return pending_ > 0; }
  void network_acls(uint16_t src_net);
  // The source network's egress ACL, if the source side is judged here.
  const AclTable* egress_acl(uint16_t src_net) const {
    return source_checked_ || src_net >= l3_.networks.size() ? nullptr
                                                             : l3_.networks[src_net].acl_egress;
  }
  void security_groups();
  // Remembers the verdicts of the packets the full path just allowed.
  void fill_cache(FlowCache& cache);
  uint16_t compact();

 private:
  bool routed(uint16_t j) const { return jobs_[j].dst_net != kNoNetwork; }
  // Still to be judged by the full path.
  bool pending(uint16_t j) const { return !dead_[j] && !passed_[j]; }
  uint32_t now_ms() {
    if (!have_now_ms_) {
      now_ms_ = static_cast<uint32_t>(rte_rdtsc() / ctx_.config().tsc_per_ms);
      have_now_ms_ = true;
    }
    return now_ms_;
  }
  void deny(uint16_t j, DropReason reason) {
    const uint16_t i = jobs_[j].pkt;
    if (routed(j)) {
      ctx_.drop_routed(batch_.pkts[i], batch_.rx_port, batch_.meta[i].router, reason);
    } else {
      ctx_.drop(batch_.pkts[i], batch_.rx_port, reason);
    }
    dead_[j] = true;
  }
  // Records the rule that allowed each packet in verdict_[j].*slot.
  void apply_acl(const AclTable& table, const uint16_t* list, uint16_t count, DropReason reason,
                 uint16_t FlowVerdict::*slot);
  void apply_sg(uint16_t zone, const PortBinding& binding, bool ingress, const uint16_t* list,
                uint16_t count);
  bool still_allowed(const PortBinding& binding, uint32_t slot, ConnTable& ct);

  Batch& batch_;
  WorkerContext& ctx_;
  const L3State& l3_;
  FilterJob* jobs_;
  uint16_t n_;
  bool source_checked_;
  bool dead_[kBurstSize] = {};
  bool passed_[kBurstSize] = {};   // allowed by a cached verdict
  uint16_t pending_ = kBurstSize;  // an upper bound until cached_verdicts() counted them
  const uint8_t* ip_[kBurstSize] = {};
  uint16_t ip_len_[kBurstSize] = {};
  uint32_t now_ms_ = 0;  // conntrack's clock, read once per burst when first needed
  bool have_now_ms_ = false;
  // For the verdict cache.
  FlowCacheKey cache_key_[kBurstSize];
  uint32_t cache_hash_[kBurstSize];
  bool cacheable_[kBurstSize] = {};
  FlowVerdict verdict_[kBurstSize];  // the ACL rules that allowed each packet
  uint64_t now_tick_ = 0;
};

void FilterRun::check_packets() {
  for (uint16_t j = 0; j < n_; ++j) {
    const uint16_t i = jobs_[j].pkt;
    rte_mbuf* m = batch_.pkts[i];
    const PacketMeta& meta = batch_.meta[i];
    if (meta.ethertype != RTE_ETHER_TYPE_IPV4) {
      // Only switched frames get here (routed packets are IPv4), and only when a port has
      // security groups: dvrd filters no other protocol, so it forwards none.
      deny(j, DropReason::kSgNotIpv4);
      continue;
    }
    const uint32_t avail = rte_pktmbuf_data_len(m) - meta.l3_offset;
    const auto* ip = rte_pktmbuf_mtod_offset(m, const uint8_t*, meta.l3_offset);
    if (avail < sizeof(rte_ipv4_hdr) || (ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5) {
      deny(j, DropReason::kIpHeaderMalformed);
      continue;
    }
    // Switched frames skipped ip4-input: the checks the classifier's fixed offsets rely on.
    const auto* hdr = reinterpret_cast<const rte_ipv4_hdr*>(ip);
    if ((ip[0] & 0x0f) != 5) {
      deny(j, DropReason::kIpOptions);
      continue;
    }
    if ((hdr->fragment_offset &
         rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
      deny(j, DropReason::kIpFragment);
      continue;
    }
    uint16_t total = rte_be_to_cpu_16(hdr->total_length);
    if (total > avail) total = static_cast<uint16_t>(avail);
    if (total < sizeof(rte_ipv4_hdr) + l4_needed(ip[9])) {
      deny(j, DropReason::kL4Truncated);
      continue;
    }
    ip_[j] = ip;
    ip_len_[j] = total;
  }
}

// Whether a packet may be judged by a cached verdict (and fill one): not when it can change its
// connection's state (TCP SYN, FIN, RST) or is ICMP other than echo (an error is judged by the
// connection it quotes, which its own key does not show).
bool cacheable_packet(const uint8_t* ip) {
  switch (ip[9]) {
    case kIpProtoTcp:
      return (tcp_flags_of(ip) & (kTcpSyn | kTcpFin | kTcpRst)) == 0;
    case kIpProtoIcmp: {
      const uint8_t type = ip[sizeof(rte_ipv4_hdr)];
      return type == kIcmpEchoRequest || type == kIcmpEchoReply;
    }
    default:
      return true;
  }
}

void FilterRun::cached_verdicts(FlowCache& cache, uint16_t src_net) {
  const uint16_t rx = batch_.rx_port;
  uint16_t alive = 0, lookups = 0;
  for (uint16_t j = 0; j < n_; ++j) {
    if (dead_[j]) continue;
    ++alive;
    const uint8_t* ip = ip_[j];
    cacheable_[j] = cacheable_packet(ip);
    if (!cacheable_[j]) continue;
    ++lookups;
    const FlowKey flow = flow_key(ip, 0);
    FlowCacheKey& key = cache_key_[j];
    key.src_ip = flow.src_ip;
    key.dst_ip = flow.dst_ip;
    key.src_port = flow.src_port;
    key.dst_port = flow.dst_port;
    key.rx_port = rx;
    key.out_port = jobs_[j].out_port;
    key.protocol = flow.protocol;
    // A verdict reached without the source side's filters must never stand in for one with them.
    key.routed = static_cast<uint8_t>(
        (routed(j) ? 1 : 0) |
        (flow.protocol == kIpProtoIcmp && ip[sizeof(rte_ipv4_hdr)] == kIcmpEchoReply ? 2 : 0) |
        (source_checked_ ? 4 : 0));
    cache_hash_[j] = FlowCache::hash(key);
    cache.prefetch(cache_hash_[j]);
  }
  now_tick_ = FlowCache::tick_of(rte_rdtsc());
  const uint64_t generation = ctx_.config().generation;
  const AclTable* egress = egress_acl(src_net);
  const unsigned worker = ctx_.worker_id();
  uint64_t hits = 0;
  for (uint16_t j = 0; j < n_; ++j) {
    if (dead_[j] || !cacheable_[j]) continue;
    const FlowVerdict* v = cache.lookup(cache_key_[j], cache_hash_[j], generation, now_tick_);
    if (v == nullptr) continue;
    // The ACL rules that allowed the flow count this packet, as a classification would have.
    if (v->acl_egress_slot != FlowVerdict::kNoAcl) egress->hits.hit(worker, v->acl_egress_slot);
    if (v->acl_ingress_slot != FlowVerdict::kNoAcl) {
      l3_.networks[jobs_[j].dst_net].acl_ingress->hits.hit(worker, v->acl_ingress_slot);
    }
    passed_[j] = true;
    ++hits;
  }
  pending_ = static_cast<uint16_t>(alive - hits);
  cache.account(lookups, static_cast<uint32_t>(hits));
  ctx_.counters().flow_cache_hits.add(hits);
}

void FilterRun::fill_cache(FlowCache& cache) {
  const uint64_t generation = ctx_.config().generation;
  uint64_t judged = 0;
  for (uint16_t j = 0; j < n_; ++j) {
    if (ip_[j] == nullptr || passed_[j]) continue;
    ++judged;
    if (!dead_[j] && cacheable_[j] && cache.admit()) {
      cache.insert(cache_key_[j], cache_hash_[j], generation, now_tick_, verdict_[j]);
    }
  }
  ctx_.counters().flow_cache_misses.add(judged);
}

void FilterRun::apply_acl(const AclTable& table, const uint16_t* list, uint16_t count,
                          DropReason reason, uint16_t FlowVerdict::*slot_field) {
  const uint8_t* inputs[kBurstSize] = {};  // (zeroed: GCC cannot see that count bounds the use)
  uint32_t results[kBurstSize];
  for (uint16_t k = 0; k < count; ++k) inputs[k] = ip_[list[k]];
  table.classifier->classify(inputs, results, count);
  const unsigned worker = ctx_.worker_id();
  for (uint16_t k = 0; k < count; ++k) {
    const uint32_t slot =
        results[k] == Classifier::kNoMatch ? table.default_slot() : results[k] - 1;
    const bool allow =
        results[k] == Classifier::kNoMatch ? table.default_allow : table.allow[slot] != 0;
    table.hits.hit(worker, slot);
    if (!allow) {
      deny(list[k], reason);
    } else {
      verdict_[list[k]].*slot_field = static_cast<uint16_t>(slot);
    }
  }
}

void FilterRun::network_acls(uint16_t src_net) {
  uint16_t list[kBurstSize];
  uint16_t count = 0;
  // Egress of the source network: one table for the whole burst.
  if (const AclTable* egress = egress_acl(src_net); egress != nullptr) {
    for (uint16_t j = 0; j < n_; ++j) {
      if (pending(j) && routed(j)) list[count++] = j;
    }
    if (count > 0) {
      apply_acl(*egress, list, count, DropReason::kAclEgressDenied, &FlowVerdict::acl_egress_slot);
    }
  }
  // Ingress of the destination networks: one classification per distinct table.
  bool done[kBurstSize] = {};
  for (uint16_t first = 0; first < n_; ++first) {
    if (!pending(first) || done[first] || !routed(first)) continue;
    const AclTable* table = l3_.networks[jobs_[first].dst_net].acl_ingress;
    count = 0;
    for (uint16_t j = first; j < n_; ++j) {
      if (!pending(j) || done[j] || !routed(j)) continue;
      if (l3_.networks[jobs_[j].dst_net].acl_ingress != table) continue;
      done[j] = true;
      list[count++] = j;
    }
    if (table != nullptr) {
      apply_acl(*table, list, count, DropReason::kAclIngressDenied, &FlowVerdict::acl_ingress_slot);
    }
  }
}

// A live connection admitted under an older policy: is it still allowed by the current rules?
bool FilterRun::still_allowed(const PortBinding& binding, uint32_t slot, ConnTable& ct) {
  const bool at_ingress = ct.created_at_ingress(slot);
  const SgPolicy& current = at_ingress ? *binding.sg_ingress : *binding.sg_egress;
  const uint32_t seen = ct.policy(slot);
  if (seen == current.id) return true;
  uint8_t buf[24];
  flow_input(ct.orig_key(slot), buf);
  const uint8_t* input = buf;
  uint32_t result;
  current.classifier->classify(&input, &result, 1);
  if (result == Classifier::kNoMatch) return false;
  ct.confirm_policy(slot, seen, current.id);
  return true;
}

void FilterRun::apply_sg(uint16_t zone, const PortBinding& binding, bool ingress,
                         const uint16_t* list, uint16_t count) {
  ConnTable& ct = *ctx_.config().conntrack;
  const SgPolicy& policy = ingress ? *binding.sg_ingress : *binding.sg_egress;
  const uint32_t now_ms = this->now_ms();
  FlowKey keys[kBurstSize];
  uint64_t hashes[kBurstSize];
  for (uint16_t k = 0; k < count; ++k) {
    keys[k] = flow_key(ip_[list[k]], zone);
    hashes[k] = ct.hash(keys[k]);
    ct.prefetch(hashes[k]);
  }
  for (uint16_t k = 0; k < count; ++k) ct.prefetch_entries(hashes[k]);

  uint16_t misses[kBurstSize];
  uint16_t miss_count = 0;
  for (uint16_t k = 0; k < count; ++k) {
    const uint16_t j = list[k];
    const uint8_t* ip = ip_[j];
    const uint8_t tcp_flags = tcp_flags_of(ip);
    ConnTable::Hit hit = ct.lookup(keys[k], hashes[k], now_ms);
    if (hit.slot != ConnTable::kNone &&
        ct.track(hit.slot, hit.reply, tcp_flags, now_ms) == ConnTable::Update::kRestart) {
      ct.remove(hit);  // a new connection reusing a closed one's ports: judge it afresh
      hit.slot = ConnTable::kNone;
    }
    if (hit.slot != ConnTable::kNone) {
      if (!still_allowed(binding, hit.slot, ct)) {
        ct.remove(hit);
        ctx_.counters().conntrack_revoked.inc();
        deny(j, DropReason::kSgRevoked);
      }
      continue;
    }
    // An ICMP error about a tracked connection is part of it ("related").
    if (ip[9] == kIpProtoIcmp && is_icmp_error(ip[sizeof(rte_ipv4_hdr)])) {
      FlowKey quoted;
      if (quoted_flow(ip, ip_len_[j], zone, quoted) &&
          ct.lookup(quoted, ct.hash(quoted), now_ms).slot != ConnTable::kNone) {
        continue;
      }
    }
    misses[miss_count++] = k;
  }
  if (miss_count == 0) return;

  // New connections: the port's rules decide, and what they admit is tracked.
  const uint8_t* inputs[kBurstSize] = {};  // (zeroed: GCC cannot see that count bounds the use)
  uint32_t results[kBurstSize];
  for (uint16_t m = 0; m < miss_count; ++m) inputs[m] = ip_[list[misses[m]]];
  policy.classifier->classify(inputs, results, miss_count);
  const unsigned worker = ctx_.worker_id();
  uint64_t inserted_hashes[kBurstSize];
  uint16_t inserted = 0;
  for (uint16_t m = 0; m < miss_count; ++m) {
    const uint16_t k = misses[m];
    const uint16_t j = list[k];
    if (results[m] == Classifier::kNoMatch) {
      deny(j, ingress ? DropReason::kSgIngressDenied : DropReason::kSgEgressDenied);
      continue;
    }
    // A new flow's first packets often arrive in one burst: the first creates the connection,
    // the others belong to it (inserting each would fill the key's buckets with duplicates).
    if (std::find(inserted_hashes, inserted_hashes + inserted, hashes[k]) !=
        inserted_hashes + inserted) {
      const ConnTable::Hit hit = ct.lookup(keys[k], hashes[k], now_ms);
      if (hit.slot != ConnTable::kNone) {
        ct.track(hit.slot, hit.reply, tcp_flags_of(ip_[j]), now_ms);
        continue;
      }
    }
    if (ct.insert(keys[k], hashes[k], tcp_flags_of(ip_[j]), ingress, policy.id, now_ms) ==
        ConnTable::kNone) {
      deny(j, DropReason::kConntrackFull);
      continue;
    }
    inserted_hashes[inserted++] = hashes[k];
    policy.hits.hit(worker, results[m] - 1);
    ctx_.counters().conntrack_created.inc();
  }
}

void FilterRun::security_groups() {
  uint16_t list[kBurstSize];
  uint16_t count = 0;
  const uint16_t rx = batch_.rx_port;
  if (const PortBinding& src = l3_.ports[rx]; !source_checked_ && src.sg_egress != nullptr) {
    for (uint16_t j = 0; j < n_; ++j) {
      if (pending(j)) list[count++] = j;
    }
    if (count > 0) apply_sg(rx, src, false, list, count);
  }
  bool done[kBurstSize] = {};
  for (uint16_t first = 0; first < n_; ++first) {
    if (!pending(first) || done[first]) continue;
    const uint16_t port = jobs_[first].out_port;
    count = 0;
    for (uint16_t j = first; j < n_; ++j) {
      if (!pending(j) || done[j] || jobs_[j].out_port != port) continue;
      done[j] = true;
      list[count++] = j;
    }
    if (port < l3_.ports.size() && l3_.ports[port].sg_ingress != nullptr) {
      apply_sg(port, l3_.ports[port], true, list, count);
    }
  }
}

uint16_t FilterRun::compact() {
  uint16_t out = 0;
  for (uint16_t j = 0; j < n_; ++j) {
    if (!dead_[j]) jobs_[out++] = jobs_[j];
  }
  return out;
}

}  // namespace

uint16_t run_filters(Batch& batch, WorkerContext& ctx, uint16_t src_net, FilterJob* jobs,
                     uint16_t n, bool source_checked) {
  const L3State& l3 = *ctx.l3();
  bool any_sg = !source_checked && l3.ports[batch.rx_port].sg_egress != nullptr;
  for (uint16_t j = 0; j < n && !any_sg; ++j) {
    any_sg = jobs[j].out_port < l3.ports.size() && l3.ports[jobs[j].out_port].sg_ingress != nullptr;
  }
  FilterRun run(batch, ctx, jobs, n, source_checked);
  run.check_packets();
  FlowCache* cache = ctx.flow_cache();
  if (cache != nullptr) run.cached_verdicts(*cache, src_net);
  if (run.any_pending()) {
    run.network_acls(src_net);
    if (any_sg) run.security_groups();
    if (cache != nullptr) run.fill_cache(*cache);
  }
  return run.compact();
}

}  // namespace dvr::dp

#include "snat_pool.h"

#include <rte_hash_crc.h>

#include <stdexcept>

namespace dvr::dp {

struct SnatPool::Slot {
  // 0: free. Otherwise kValid | inside address << 16 | inside port.
  std::atomic<uint64_t> inside;
  std::atomic<uint32_t> last_seen_ms;
  std::atomic<uint32_t> state;  // kState* bits
};

namespace {

constexpr uint64_t kValid = uint64_t{1} << 63;
constexpr uint8_t kTcpFinFlag = 0x01, kTcpSynFlag = 0x02, kTcpRstFlag = 0x04, kTcpAckFlag = 0x10;

// Session state bits. TCP uses all of them; UDP and ICMP only kReplySeen.
constexpr uint32_t kSynOut = 1, kReplySeen = 2, kFinOut = 4, kFinIn = 8, kRst = 16,
                   kEstablished = 32;

// Milliseconds from `stamp` to `now` on the wrapping clock. Workers and the control thread read
// the clock at different instants: a stamp a little ahead of the reader's `now` is age 0, not
// 49 days.
uint32_t age_of(uint32_t now, uint32_t stamp) {
  const auto d = static_cast<int32_t>(now - stamp);
  return d < 0 ? 0 : static_cast<uint32_t>(d);
}

uint64_t inside_word(uint32_t ip, uint16_t port) {
  return kValid | uint64_t{ip} << 16 | port;
}

uint32_t initial_state(NatProto p, uint8_t flags) {
  if (p != NatProto::kTcp) return 0;
  if ((flags & kTcpRstFlag) != 0) return kRst;
  if ((flags & (kTcpSynFlag | kTcpAckFlag)) == kTcpSynFlag) return kSynOut;
  // Mid-stream: a connection that was established before this session existed (e.g. the SNAT
  // host changed). Take it as established rather than cut it.
  return kSynOut | kReplySeen | kEstablished;
}

const char* state_name(NatProto p, uint32_t st) {
  if (p == NatProto::kTcp) {
    if ((st & kRst) != 0) return "close";
    if ((st & kFinOut) != 0 && (st & kFinIn) != 0) return "time_wait";
    if ((st & (kFinOut | kFinIn)) != 0) return "fin_wait";
    if ((st & kEstablished) != 0) return "established";
    if ((st & kReplySeen) != 0) return "syn_recv";
    return "syn_sent";
  }
  return (st & kReplySeen) != 0 ? "replied" : "new";
}

}  // namespace

const char* nat_proto_name(NatProto p) {
  switch (p) {
    case NatProto::kTcp:
      return "tcp";
    case NatProto::kUdp:
      return "udp";
    default:
      return "icmp";
  }
}

bool nat_proto_of(uint8_t ip_protocol, NatProto& p) {
  switch (ip_protocol) {
    case 6:
      p = NatProto::kTcp;
      return true;
    case 17:
      p = NatProto::kUdp;
      return true;
    case 1:
      p = NatProto::kIcmp;
      return true;
    default:
      return false;
  }
}

SnatPool::SnatPool(uint32_t snat_ip, uint16_t port_min, uint16_t port_max,
                   const ConnTimeouts& timeouts)
    : snat_ip_(snat_ip), port_min_(port_min), port_max_(port_max), timeouts_(timeouts) {
  if (port_min == 0 || port_max < port_min) {
    throw std::invalid_argument("SNAT port range is empty or starts at 0");
  }
  range_ = uint32_t{port_max} - port_min + 1;
  slots_ = new Slot[static_cast<size_t>(range_) * kNatProtoCount]();
}

SnatPool::~SnatPool() {
  delete[] slots_;
}

SnatPool::Slot* SnatPool::slot(NatProto p, uint32_t index) const {
  return &slots_[static_cast<size_t>(p) * range_ + index];
}

uint32_t SnatPool::probe(NatProto p, uint32_t inside_ip, uint16_t inside_port, uint32_t k) const {
  const uint64_t key =
      uint64_t{inside_ip} << 32 | uint32_t{inside_port} << 8 | static_cast<uint32_t>(p);
  return rte_hash_crc_8byte(key, 0x9E3779B9u * (k + 1)) % range_;
}

uint32_t SnatPool::timeout_ms(NatProto p, uint32_t st) const {
  const ConnTimeouts& t = timeouts_;
  uint32_t s = 0;
  switch (p) {
    case NatProto::kTcp:
      if ((st & kRst) != 0) {
        s = t.tcp_close;
      } else if ((st & kFinOut) != 0 && (st & kFinIn) != 0) {
        s = t.tcp_time_wait;
      } else if ((st & (kFinOut | kFinIn)) != 0) {
        s = t.tcp_fin_wait;
      } else if ((st & kEstablished) != 0) {
        s = t.tcp_established;
      } else if ((st & kReplySeen) != 0) {
        s = t.tcp_syn_recv;
      } else {
        s = t.tcp_syn_sent;
      }
      break;
    case NatProto::kUdp:
      s = (st & kReplySeen) != 0 ? t.udp_replied : t.udp_new;
      break;
    default:
      s = t.icmp;
      break;
  }
  return s * 1000;
}

bool SnatPool::expired(NatProto p, const Slot& s, uint32_t now_ms) const {
  const uint32_t idle = age_of(now_ms, s.last_seen_ms.load(std::memory_order_relaxed));
  return idle > timeout_ms(p, s.state.load(std::memory_order_relaxed));
}

SnatPool::Result SnatPool::outbound(NatProto p, uint32_t inside_ip, uint16_t inside_port,
                                    uint8_t tcp_flags, uint32_t now_ms, uint16_t& outside_port) {
  const uint64_t want = inside_word(inside_ip, inside_port);
  for (int attempt = 0; attempt < 2; ++attempt) {
    Slot* free_slot = nullptr;
    uint64_t free_seen = 0;
    uint32_t free_index = 0;
    for (uint32_t k = 0; k < kProbes; ++k) {
      const uint32_t index = probe(p, inside_ip, inside_port, k);
      Slot& s = *slot(p, index);
      const uint64_t w = s.inside.load(std::memory_order_acquire);
      if (w == want) {
        s.last_seen_ms.store(now_ms, std::memory_order_relaxed);
        if (p == NatProto::kTcp) {
          const uint32_t st = s.state.load(std::memory_order_relaxed);
          const bool fresh_syn = (tcp_flags & (kTcpSynFlag | kTcpAckFlag)) == kTcpSynFlag;
          if (fresh_syn && ((st & kRst) != 0 || ((st & kFinOut) != 0 && (st & kFinIn) != 0))) {
            s.state.store(kSynOut, std::memory_order_relaxed);  // the port is reused: start over
          } else {
            uint32_t add = 0;
            if ((tcp_flags & kTcpFinFlag) != 0) add |= kFinOut;
            if ((tcp_flags & kTcpRstFlag) != 0) add |= kRst;
            if ((tcp_flags & kTcpAckFlag) != 0 && (tcp_flags & kTcpSynFlag) == 0 &&
                (st & kReplySeen) != 0) {
              add |= kEstablished;
            }
            if ((st | add) != st) s.state.fetch_or(add, std::memory_order_relaxed);
          }
        }
        outside_port = static_cast<uint16_t>(port_min_ + index);
        return Result::kFound;
      }
      if (free_slot == nullptr && (w == 0 || expired(p, s, now_ms))) {
        free_slot = &s;
        free_seen = w;
        free_index = index;
      }
    }
    if (free_slot == nullptr) break;
    // Stamp first: the sweep must not take the slot for expired the moment it is claimed.
    free_slot->last_seen_ms.store(now_ms, std::memory_order_relaxed);
    if (free_slot->inside.compare_exchange_strong(free_seen, want, std::memory_order_acq_rel)) {
      free_slot->state.store(initial_state(p, tcp_flags), std::memory_order_relaxed);
      outside_port = static_cast<uint16_t>(port_min_ + free_index);
      return Result::kCreated;
    }
    // Another worker (or the sweep) changed that slot: look again.
  }
  exhausted_.fetch_add(1, std::memory_order_relaxed);
  return Result::kExhausted;
}

bool SnatPool::find_outbound(NatProto p, uint32_t inside_ip, uint16_t inside_port,
                             uint16_t& outside_port) const {
  const uint64_t want = inside_word(inside_ip, inside_port);
  for (uint32_t k = 0; k < kProbes; ++k) {
    const uint32_t index = probe(p, inside_ip, inside_port, k);
    if (slot(p, index)->inside.load(std::memory_order_acquire) == want) {
      outside_port = static_cast<uint16_t>(port_min_ + index);
      return true;
    }
  }
  return false;
}

bool SnatPool::inbound(NatProto p, uint16_t outside_port, uint8_t tcp_flags, uint32_t now_ms,
                       bool refresh, uint32_t& inside_ip, uint16_t& inside_port) {
  if (outside_port < port_min_ || outside_port > port_max_) return false;
  Slot& s = *slot(p, outside_port - port_min_);
  const uint64_t w = s.inside.load(std::memory_order_acquire);
  if (w == 0) return false;
  inside_ip = static_cast<uint32_t>(w >> 16);
  inside_port = static_cast<uint16_t>(w);
  if (refresh) {
    s.last_seen_ms.store(now_ms, std::memory_order_relaxed);
    uint32_t add = kReplySeen;
    if (p == NatProto::kTcp) {
      if ((tcp_flags & kTcpFinFlag) != 0) add |= kFinIn;
      if ((tcp_flags & kTcpRstFlag) != 0) add |= kRst;
    }
    const uint32_t st = s.state.load(std::memory_order_relaxed);
    if ((st | add) != st) s.state.fetch_or(add, std::memory_order_relaxed);
  }
  return true;
}

uint32_t SnatPool::sweep(uint32_t now_ms, uint32_t max_slots) {
  const uint32_t total = slot_count();
  uint32_t freed = 0;
  for (uint32_t n = 0; n < max_slots && n < total; ++n) {
    const uint32_t i = sweep_cursor_;
    sweep_cursor_ = sweep_cursor_ + 1 == total ? 0 : sweep_cursor_ + 1;
    const auto p = static_cast<NatProto>(i / range_);
    Slot& s = slots_[i];
    uint64_t w = s.inside.load(std::memory_order_acquire);
    if (w != 0 && expired(p, s, now_ms) &&
        s.inside.compare_exchange_strong(w, 0, std::memory_order_acq_rel)) {
      ++freed;
    }
  }
  expired_ += freed;
  return freed;
}

void SnatPool::count_live(uint32_t now_ms, uint64_t (&live)[kNatProtoCount]) const {
  for (uint64_t& v : live) v = 0;
  for (uint32_t i = 0; i < slot_count(); ++i) {
    const auto p = static_cast<NatProto>(i / range_);
    const Slot& s = slots_[i];
    if (s.inside.load(std::memory_order_acquire) != 0 && !expired(p, s, now_ms)) {
      ++live[static_cast<size_t>(p)];
    }
  }
}

void SnatPool::for_each(uint32_t now_ms,
                        const std::function<bool(const SnatSessionView&)>& fn) const {
  for (uint32_t i = 0; i < slot_count(); ++i) {
    const auto p = static_cast<NatProto>(i / range_);
    const Slot& s = slots_[i];
    const uint64_t w = s.inside.load(std::memory_order_acquire);
    if (w == 0) continue;
    const uint32_t st = s.state.load(std::memory_order_relaxed);
    const uint32_t idle = age_of(now_ms, s.last_seen_ms.load(std::memory_order_relaxed));
    const uint32_t timeout = timeout_ms(p, st);
    SnatSessionView v{p,
                      static_cast<uint32_t>(w >> 16),
                      static_cast<uint16_t>(w),
                      static_cast<uint16_t>(port_min_ + i % range_),
                      state_name(p, st),
                      idle,
                      idle >= timeout ? 0 : timeout - idle};
    if (!fn(v)) return;
  }
}

}  // namespace dvr::dp

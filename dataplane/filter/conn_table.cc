#include "conn_table.h"

#include <rte_branch_prediction.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>
#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <new>
#include <stdexcept>

namespace dvr::dp {

// One connection. Written by the inserter while its slot is busy; afterwards the key is
// immutable and the other words change by relaxed stores / CAS (track, confirm_policy).
struct alignas(32) ConnTable::Entry {
  // The normalized (direction-independent) key: see NormKey below.
  std::atomic<uint64_t> key[2];
  std::atomic<uint32_t> last_seen_ms;
  std::atomic<uint32_t> state;  // ConnState in the low bits, plus the kState* flags
  std::atomic<uint32_t> policy;
  std::atomic<uint32_t> created_ms;
};

// Eight slot words, one cache line: {generation:32, signature:16, unused:14, state:2}.
struct alignas(64) ConnTable::Bucket {
  std::atomic<uint64_t> slot[8];
};

namespace {

// The table's arrays come from anonymous mappings rounded up to 2 MiB and marked for transparent
// huge pages: spread over 4 KiB pages, every lookup also missed the TLB (measured: 4 page walks
// per packet with two filtered VMs, and about 100 cycles of the lookup).
constexpr size_t kHugePage = size_t{2} << 20;

void* map_table(size_t bytes) {
  const size_t len = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  ::madvise(p, len, MADV_HUGEPAGE);  // advice only: 4 KiB pages still work
  return p;
}

void unmap_table(void* p, size_t bytes) {
  if (p != nullptr) ::munmap(p, (bytes + kHugePage - 1) / kHugePage * kHugePage);
}

static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<uint32_t>::is_always_lock_free);

constexpr uint32_t kSlotsPerBucket = 8;
constexpr uint32_t kMaxCapacity = 1u << 24;
constexpr uint32_t kMinSlots = 16;
constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17;

// Slot word.
constexpr uint64_t kSlotEmpty = 0, kSlotBusy = 1, kSlotValid = 2, kSlotStateMask = 3;
constexpr uint64_t kSlotTagMask = 0xFFFF'FFFFull;  // signature + state: what lookup compares

constexpr uint64_t slot_word(uint32_t gen, uint32_t sig, uint64_t st) {
  return uint64_t{gen} << 32 | uint64_t{sig & 0xFFFF} << 16 | st;
}
constexpr uint32_t slot_gen(uint64_t w) {
  return static_cast<uint32_t>(w >> 32);
}
constexpr uint64_t slot_state(uint64_t w) {
  return w & kSlotStateMask;
}
// The empty word that follows `w` (a removal), and the busy word that claims it.
constexpr uint64_t removed_word(uint64_t w) {
  return slot_word(slot_gen(w) + 1, 0, kSlotEmpty);
}
constexpr uint64_t claimed_word(uint64_t w) {
  return slot_word(slot_gen(w) + 1, 0, kSlotBusy);
}

// Entry state word.
constexpr uint32_t kStateMask = 0x0F;  // ConnState
constexpr uint32_t kStateReplySeen = 1u << 4;
constexpr uint32_t kStateFinOrig = 1u << 5;  // FIN seen from the originator
constexpr uint32_t kStateFinReply = 1u << 6;
constexpr uint32_t kStateIngress = 1u << 7;  // created_at_ingress
constexpr uint32_t kStateOrigLow = 1u << 8;  // the originator is the key's low endpoint

constexpr uint32_t st_bits(ConnState s) {
  return static_cast<uint32_t>(s);
}
constexpr ConnState st_of(uint32_t word) {
  return static_cast<ConnState>(word & kStateMask);
}
constexpr uint32_t with_state(uint32_t word, ConnState s) {
  return (word & ~kStateMask) | st_bits(s);
}

// The normalized key. The two endpoints are ordered ("low" first) so that a flow and its reply
// give the same words:
//   w0 = low ip << 32 | high ip
//   w1 = low port << 48 | high port << 32 | zone << 16 | protocol
// An endpoint is (ip, port), compared as ip << 16 | port, for every protocol: the caller's ICMP
// convention (filter_engine.cc) gives an echo request (id -> 0x0800) and its reply
// (0x0800 -> id), which are the same two endpoints.
struct NormKey {
  uint64_t w0;
  uint64_t w1;
  bool src_low;  // the packet's source is the low endpoint
};

inline NormKey normalize(const FlowKey& k) {
  const uint64_t tail = uint64_t{k.zone} << 16 | k.protocol;
  NormKey n;
  const uint64_t a = uint64_t{k.src_ip} << 16 | k.src_port;
  const uint64_t b = uint64_t{k.dst_ip} << 16 | k.dst_port;
  n.src_low = a <= b;
  const uint64_t lo = n.src_low ? a : b;
  const uint64_t hi = n.src_low ? b : a;
  n.w0 = (lo >> 16) << 32 | (hi >> 16);
  n.w1 = (lo & 0xFFFF) << 48 | (hi & 0xFFFF) << 32 | tail;
  return n;
}

inline FlowKey denormalize(uint64_t w0, uint64_t w1, bool orig_low) {
  const auto lo_ip = static_cast<uint32_t>(w0 >> 32), hi_ip = static_cast<uint32_t>(w0);
  const auto p0 = static_cast<uint16_t>(w1 >> 48), p1 = static_cast<uint16_t>(w1 >> 32);
  FlowKey k;
  k.protocol = static_cast<uint8_t>(w1);
  k.zone = static_cast<uint16_t>(w1 >> 16);
  k.src_ip = orig_low ? lo_ip : hi_ip;
  k.dst_ip = orig_low ? hi_ip : lo_ip;
  if (orig_low) {
    k.src_port = p0;
    k.dst_port = p1;
  } else {
    k.src_port = p1;
    k.dst_port = p0;
  }
  return k;
}

inline uint8_t key_protocol(uint64_t w1) {
  return static_cast<uint8_t>(w1);
}

// Where a hash lives: its two buckets and the slot-word bits (signature | valid) of its entries.
struct Probe {
  uint32_t b1;
  uint32_t b2;
  uint32_t sig;
  uint64_t tag;
};

// Bucket indexes use at most 22 bits of each 32-bit half (1<<25 slots / 8); the signature takes
// the 10 bits above them in the low half and the 6 top bits of the high half.
inline Probe make_probe(uint64_t hash, uint32_t mask) {
  const auto lo = static_cast<uint32_t>(hash), hi = static_cast<uint32_t>(hash >> 32);
  Probe p;
  p.b1 = lo & mask;
  p.b2 = hi & mask;
  if (p.b2 == p.b1 && mask != 0) p.b2 = p.b1 ^ 1;
  uint32_t sig = (lo >> 22) | (hi >> 26) << 10;
  sig |= static_cast<uint32_t>(sig == 0);  // never 0
  p.sig = sig;
  p.tag = uint64_t{sig} << 16 | kSlotValid;
  return p;
}

uint32_t initial_state(uint8_t protocol, uint8_t tcp_flags) {
  if (protocol != kProtoTcp) return st_bits(ConnState::kNew);
  if (tcp_flags & kTcpRst) return st_bits(ConnState::kTcpClose);
  if ((tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn) return st_bits(ConnState::kTcpSynSent);
  return st_bits(ConnState::kTcpEstablished);
}

// The state word after a packet; sets *restart (and returns `s` unchanged) for a fresh SYN on a
// closed connection.
uint32_t next_state(uint32_t s, bool reply, uint8_t flags, bool* restart) {
  uint32_t n = s | (reply ? kStateReplySeen : 0);
  const ConnState cs = st_of(s);
  if (cs < ConnState::kTcpSynSent) {  // not TCP
    if (reply && cs == ConnState::kNew) n = with_state(n, ConnState::kReplied);
    return n;
  }
  if (flags & kTcpRst) return with_state(n, ConnState::kTcpClose);
  const bool syn = flags & kTcpSyn, ack = flags & kTcpAck, fin = flags & kTcpFin;
  const uint32_t fin_bit = reply ? kStateFinReply : kStateFinOrig;
  switch (cs) {
    case ConnState::kTcpSynSent:
      if (reply && syn && ack) n = with_state(n, ConnState::kTcpSynRecv);
      break;
    case ConnState::kTcpSynRecv:
      if (!reply && ack && !syn) n = with_state(n, ConnState::kTcpEstablished);
      break;
    case ConnState::kTcpEstablished:
      if (fin) n = with_state(n | fin_bit, ConnState::kTcpFinWait);
      break;
    case ConnState::kTcpFinWait:
      if (fin && !(s & fin_bit)) n = with_state(n | fin_bit, ConnState::kTcpTimeWait);
      break;
    case ConnState::kTcpTimeWait:
    case ConnState::kTcpClose:
      if (syn && !ack) {
        *restart = true;
        return s;
      }
      break;
    default:
      break;
  }
  return n;
}

// Wrapping age, clamped at 0: workers' clocks are read at slightly different instants, so a
// timestamp may be a little ahead of the reader's `now`.
inline uint32_t age_of(uint32_t now_ms, uint32_t then_ms) {
  const auto d = static_cast<int32_t>(now_ms - then_ms);
  return d > 0 ? static_cast<uint32_t>(d) : 0;
}

inline uint64_t timeout_ms(const ConnTimeouts& t, uint8_t protocol, ConnState s) {
  return uint64_t{t.for_state(protocol, s)} * 1000;
}

// A consistent copy of an entry (control thread).
struct Snapshot {
  uint64_t w0, w1;
  uint32_t last_seen_ms, state, policy, created_ms;
};

}  // namespace

const char* conn_state_name(ConnState s) {
  switch (s) {
    case ConnState::kNew:
      return "new";
    case ConnState::kReplied:
      return "replied";
    case ConnState::kTcpSynSent:
      return "syn_sent";
    case ConnState::kTcpSynRecv:
      return "syn_recv";
    case ConnState::kTcpEstablished:
      return "established";
    case ConnState::kTcpFinWait:
      return "fin_wait";
    case ConnState::kTcpTimeWait:
      return "time_wait";
    case ConnState::kTcpClose:
      return "close";
    default:
      return "unknown";
  }
}

uint32_t ConnTimeouts::for_state(uint8_t protocol, ConnState s) const {
  switch (protocol) {
    case kProtoTcp:
      switch (s) {
        case ConnState::kTcpSynSent:
        case ConnState::kNew:  // (not a TCP state; treated as a lone SYN)
          return tcp_syn_sent;
        case ConnState::kTcpSynRecv:
          return tcp_syn_recv;
        case ConnState::kTcpFinWait:
          return tcp_fin_wait;
        case ConnState::kTcpTimeWait:
          return tcp_time_wait;
        case ConnState::kTcpClose:
          return tcp_close;
        default:  // established (and kReplied, which TCP entries never have)
          return tcp_established;
      }
    case kProtoUdp:
      return s == ConnState::kReplied ? udp_replied : udp_new;
    case kProtoIcmp:
      return icmp;
    default:
      return s == ConnState::kReplied ? other_replied : other_new;
  }
}

ConnTable::ConnTable(uint32_t capacity, const ConnTimeouts& timeouts)
    : capacity_(capacity), timeouts_(timeouts) {
  static_assert(sizeof(Entry) == 32 && sizeof(Bucket) == 64);
  if (capacity == 0 || capacity > kMaxCapacity) {
    throw std::invalid_argument("conntrack table: capacity " + std::to_string(capacity) +
                                " is outside 1.." + std::to_string(kMaxCapacity));
  }
  slot_count_ = std::max(kMinSlots, std::bit_ceil(2 * capacity));
  const uint32_t bucket_count = slot_count_ / kSlotsPerBucket;
  bucket_mask_ = bucket_count - 1;

  bucket_bytes_ = size_t{bucket_count} * sizeof(Bucket);
  entry_bytes_ = size_t{slot_count_} * sizeof(Entry);
  void* b = map_table(bucket_bytes_);
  void* e = map_table(entry_bytes_);
  if (b == nullptr || e == nullptr) {
    unmap_table(b, bucket_bytes_);
    unmap_table(e, entry_bytes_);
    throw std::bad_alloc();
  }
  buckets_ = static_cast<Bucket*>(b);
  entries_ = static_cast<Entry*>(e);
  // std::atomic's default constructor value-initializes (C++20): every word starts at 0, i.e.
  // every slot empty at generation 0. Writing every line also faults every page in now, not on
  // a worker later.
  for (uint32_t i = 0; i < bucket_count; ++i) new (&buckets_[i]) Bucket();
  for (uint32_t i = 0; i < slot_count_; ++i) new (&entries_[i]) Entry();
}

ConnTable::~ConnTable() {
  // Bucket and Entry are trivially destructible.
  unmap_table(buckets_, bucket_bytes_);
  unmap_table(entries_, entry_bytes_);
}

uint64_t ConnTable::hash(const FlowKey& key) const {
  const NormKey n = normalize(key);
  // Two different linear maps of the key (the words in opposite orders): with the same order and
  // two seeds, CRC32's linearity would make the two halves differ by a constant, so every key of
  // a bucket would share one alternative bucket and the table would overflow at ~25% load.
  const uint32_t h1 = rte_hash_crc_8byte(n.w1, rte_hash_crc_8byte(n.w0, 0x7a3c5e91u));
  const uint32_t h2 = rte_hash_crc_8byte(n.w0, rte_hash_crc_8byte(n.w1, 0xc2b2ae35u));
  return uint64_t{h2} << 32 | h1;
}

void ConnTable::prefetch(uint64_t hash) const {
  const Probe p = make_probe(hash, bucket_mask_);
  rte_prefetch0(&buckets_[p.b1]);
  rte_prefetch0(&buckets_[p.b2]);
}

void ConnTable::prefetch_entries(uint64_t hash) const {
  const Probe p = make_probe(hash, bucket_mask_);
  for (const uint32_t b : {p.b1, p.b2}) {
    const Bucket& bk = buckets_[b];
    for (uint32_t i = 0; i < kSlotsPerBucket; ++i) {
      if ((bk.slot[i].load(std::memory_order_relaxed) & kSlotTagMask) == p.tag) {
        rte_prefetch0(&entries_[b * kSlotsPerBucket + i]);
      }
    }
  }
}

ConnTable::Hit ConnTable::lookup(const FlowKey& key, uint64_t hash, uint32_t now_ms) {
  const NormKey n = normalize(key);
  const Probe p = make_probe(hash, bucket_mask_);
  const uint32_t bucket[2] = {p.b1, p.b2};
  for (const uint32_t b : bucket) {
    Bucket& bk = buckets_[b];
    for (uint32_t i = 0; i < kSlotsPerBucket; ++i) {
      uint64_t w = bk.slot[i].load(std::memory_order_acquire);
      if ((w & kSlotTagMask) != p.tag) continue;
      const uint32_t slot = b * kSlotsPerBucket + i;
      Entry& e = entries_[slot];
      const uint64_t w0 = e.key[0].load(std::memory_order_relaxed);
      const uint64_t w1 = e.key[1].load(std::memory_order_relaxed);
      // The timestamp and state too: the expiry decision must be about this entry, not about
      // one that replaced it after the check below.
      const uint32_t st = e.state.load(std::memory_order_relaxed);
      const uint32_t last = e.last_seen_ms.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (bk.slot[i].load(std::memory_order_relaxed) != w) continue;  // changed under us
      if (w0 != n.w0 || w1 != n.w1) continue;
      if (unlikely(age_of(now_ms, last) > timeout_ms(timeouts_, key.protocol, st_of(st)))) {
        bk.slot[i].compare_exchange_strong(w, removed_word(w), std::memory_order_acq_rel,
                                           std::memory_order_relaxed);
        continue;  // (a duplicate of the connection may still be live)
      }
      return Hit{slot, n.src_low != ((st & kStateOrigLow) != 0), slot_gen(w)};
    }
  }
  return Hit{};
}

ConnTable::Update ConnTable::track(uint32_t slot, bool reply, uint8_t tcp_flags, uint32_t now_ms) {
  Entry& e = entries_[slot];
  if (e.last_seen_ms.load(std::memory_order_relaxed) != now_ms) {
    e.last_seen_ms.store(now_ms, std::memory_order_relaxed);
  }
  uint32_t s = e.state.load(std::memory_order_relaxed);
  for (;;) {
    bool restart = false;
    const uint32_t n = next_state(s, reply, tcp_flags, &restart);
    if (restart) return Update::kRestart;
    if (n == s) return Update::kOk;  // nothing to write: keep the line shared
    if (e.state.compare_exchange_weak(s, n, std::memory_order_relaxed)) return Update::kOk;
  }
}

uint32_t ConnTable::insert(const FlowKey& key, uint64_t hash, uint8_t tcp_flags, bool at_ingress,
                           uint32_t policy, uint32_t now_ms) {
  const NormKey n = normalize(key);
  const Probe p = make_probe(hash, bucket_mask_);
  const uint32_t state = initial_state(key.protocol, tcp_flags) | (n.src_low ? kStateOrigLow : 0) |
                         (at_ingress ? kStateIngress : 0);

  // Fills the claimed slot (its word now `claimed`) and publishes it.
  auto fill = [&](uint32_t slot, std::atomic<uint64_t>& word, uint64_t claimed) {
    // Orders the busy word before the entry's stores, for readers that read them (seqlock).
    std::atomic_thread_fence(std::memory_order_release);
    Entry& e = entries_[slot];
    e.key[0].store(n.w0, std::memory_order_relaxed);
    e.key[1].store(n.w1, std::memory_order_relaxed);
    e.last_seen_ms.store(now_ms, std::memory_order_relaxed);
    e.state.store(state, std::memory_order_relaxed);
    e.policy.store(policy, std::memory_order_relaxed);
    e.created_ms.store(now_ms, std::memory_order_relaxed);
    word.store(slot_word(slot_gen(claimed), p.sig, kSlotValid), std::memory_order_release);
    return slot;
  };

  // Two choices: the bucket with more empty slots first (with strictly first-fit placement the
  // first bucket fills up and the second choice only absorbs overflow, which wastes most of the
  // benefit of having one).
  uint32_t bucket[2] = {p.b1, p.b2};
  unsigned empty[2] = {0, 0};
  for (unsigned j = 0; j < 2; ++j) {
    for (uint32_t i = 0; i < kSlotsPerBucket; ++i) {
      const uint64_t w = buckets_[bucket[j]].slot[i].load(std::memory_order_relaxed);
      empty[j] += slot_state(w) == kSlotEmpty;
    }
  }
  if (empty[1] > empty[0]) std::swap(bucket[0], bucket[1]);

  for (const uint32_t b : bucket) {
    for (uint32_t i = 0; i < kSlotsPerBucket; ++i) {
      std::atomic<uint64_t>& word = buckets_[b].slot[i];
      uint64_t w = word.load(std::memory_order_relaxed);
      while (slot_state(w) == kSlotEmpty) {
        const uint64_t claimed = claimed_word(w);
        if (word.compare_exchange_weak(w, claimed, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
          return fill(b * kSlotsPerBucket + i, word, claimed);
        }
      }
    }
  }

  // Both buckets were full: reclaim an expired entry. valid(g) -> busy(g+1) in one CAS is the
  // removal and the claim at once (no other inserter can take the slot in between). A slot
  // emptied since the first pass is taken as well.
  for (const uint32_t b : bucket) {
    for (uint32_t i = 0; i < kSlotsPerBucket; ++i) {
      std::atomic<uint64_t>& word = buckets_[b].slot[i];
      uint64_t w = word.load(std::memory_order_acquire);
      const uint32_t slot = b * kSlotsPerBucket + i;
      if (slot_state(w) == kSlotValid) {
        const Entry& e = entries_[slot];
        const uint8_t proto = key_protocol(e.key[1].load(std::memory_order_relaxed));
        const ConnState cs = st_of(e.state.load(std::memory_order_relaxed));
        const uint32_t last = e.last_seen_ms.load(std::memory_order_relaxed);
        // (If the slot changed since `w`, these may be another entry's: the CAS then fails.)
        if (age_of(now_ms, last) <= timeout_ms(timeouts_, proto, cs)) continue;
      } else if (slot_state(w) != kSlotEmpty) {
        continue;
      }
      const uint64_t claimed = claimed_word(w);
      if (word.compare_exchange_strong(w, claimed, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
        return fill(slot, word, claimed);
      }
    }
  }
  return kNone;
}

bool ConnTable::remove(const Hit& hit) {
  std::atomic<uint64_t>& word =
      buckets_[hit.slot / kSlotsPerBucket].slot[hit.slot % kSlotsPerBucket];
  uint64_t w = word.load(std::memory_order_relaxed);
  if (slot_state(w) != kSlotValid || slot_gen(w) != hit.generation) return false;
  return word.compare_exchange_strong(w, removed_word(w), std::memory_order_acq_rel,
                                      std::memory_order_relaxed);
}

bool ConnTable::remove(uint32_t slot) {
  std::atomic<uint64_t>& word = buckets_[slot / kSlotsPerBucket].slot[slot % kSlotsPerBucket];
  uint64_t w = word.load(std::memory_order_relaxed);
  if (slot_state(w) != kSlotValid) return false;
  // A valid word only ever changes by a removal, so one strong CAS settles it.
  return word.compare_exchange_strong(w, removed_word(w), std::memory_order_acq_rel,
                                      std::memory_order_relaxed);
}

uint32_t ConnTable::policy(uint32_t slot) const {
  return entries_[slot].policy.load(std::memory_order_relaxed);
}

bool ConnTable::confirm_policy(uint32_t slot, uint32_t seen, uint32_t policy) {
  return entries_[slot].policy.compare_exchange_strong(seen, policy, std::memory_order_relaxed);
}

FlowKey ConnTable::orig_key(uint32_t slot) const {
  const Entry& e = entries_[slot];
  return denormalize(e.key[0].load(std::memory_order_relaxed),
                     e.key[1].load(std::memory_order_relaxed),
                     (e.state.load(std::memory_order_relaxed) & kStateOrigLow) != 0);
}

bool ConnTable::created_at_ingress(uint32_t slot) const {
  return (entries_[slot].state.load(std::memory_order_relaxed) & kStateIngress) != 0;
}

ConnState ConnTable::state(uint32_t slot) const {
  return st_of(entries_[slot].state.load(std::memory_order_relaxed));
}

uint32_t ConnTable::sweep(uint32_t now_ms, uint32_t max_slots) {
  const uint32_t n = std::min(max_slots, slot_count_);
  const uint32_t slot_mask = slot_count_ - 1;
  uint32_t removed = 0;
  for (uint32_t k = 0; k < n; ++k) {
    const uint32_t slot = sweep_cursor_;
    sweep_cursor_ = (slot + 1) & slot_mask;
    std::atomic<uint64_t>& word = buckets_[slot / kSlotsPerBucket].slot[slot % kSlotsPerBucket];
    uint64_t w = word.load(std::memory_order_acquire);
    if (slot_state(w) != kSlotValid) continue;
    const Entry& e = entries_[slot];
    const uint8_t proto = key_protocol(e.key[1].load(std::memory_order_relaxed));
    const ConnState cs = st_of(e.state.load(std::memory_order_relaxed));
    const uint32_t last = e.last_seen_ms.load(std::memory_order_relaxed);
    if (age_of(now_ms, last) <= timeout_ms(timeouts_, proto, cs)) continue;
    // If the slot changed since `w` (removed, reused), the CAS fails and the new entry stays.
    if (word.compare_exchange_strong(w, removed_word(w), std::memory_order_acq_rel,
                                     std::memory_order_relaxed)) {
      ++removed;
    }
  }
  return removed;
}

void ConnTable::for_each(uint32_t now_ms, const std::function<bool(const ConnView&)>& fn) const {
  for (uint32_t slot = 0; slot < slot_count_; ++slot) {
    const std::atomic<uint64_t>& word =
        buckets_[slot / kSlotsPerBucket].slot[slot % kSlotsPerBucket];
    const uint64_t w = word.load(std::memory_order_acquire);
    if (slot_state(w) != kSlotValid) continue;
    const Entry& e = entries_[slot];
    Snapshot s;
    s.w0 = e.key[0].load(std::memory_order_relaxed);
    s.w1 = e.key[1].load(std::memory_order_relaxed);
    s.last_seen_ms = e.last_seen_ms.load(std::memory_order_relaxed);
    s.state = e.state.load(std::memory_order_relaxed);
    s.policy = e.policy.load(std::memory_order_relaxed);
    s.created_ms = e.created_ms.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (word.load(std::memory_order_relaxed) != w) continue;  // changed during the copy

    ConnView v;
    v.orig = denormalize(s.w0, s.w1, (s.state & kStateOrigLow) != 0);
    v.state = st_of(s.state);
    v.created_at_ingress = (s.state & kStateIngress) != 0;
    v.policy = s.policy;
    v.age_ms = age_of(now_ms, s.created_ms);
    v.idle_ms = age_of(now_ms, s.last_seen_ms);
    const uint64_t limit = timeout_ms(timeouts_, key_protocol(s.w1), v.state);
    v.expires_in_ms =
        v.idle_ms > limit
            ? 0
            : static_cast<uint32_t>(std::min<uint64_t>(limit - v.idle_ms, UINT32_MAX));
    if (!fn(v)) return;
  }
}

uint32_t ConnTable::count_live(uint32_t now_ms) const {
  uint32_t live = 0;
  for (uint32_t slot = 0; slot < slot_count_; ++slot) {
    const std::atomic<uint64_t>& word =
        buckets_[slot / kSlotsPerBucket].slot[slot % kSlotsPerBucket];
    const uint64_t w = word.load(std::memory_order_acquire);
    if (slot_state(w) != kSlotValid) continue;
    const Entry& e = entries_[slot];
    const uint8_t proto = key_protocol(e.key[1].load(std::memory_order_relaxed));
    const uint32_t st = e.state.load(std::memory_order_relaxed);
    const uint32_t last = e.last_seen_ms.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (word.load(std::memory_order_relaxed) != w) continue;
    live += age_of(now_ms, last) <= timeout_ms(timeouts_, proto, st_of(st));
  }
  return live;
}

}  // namespace dvr::dp

// The connection-tracking table of stateful security groups: one table shared by every worker,
// lock-free (see docs/security.md, "Connection tracking", for why shared and not per worker).
//
// Layout. Slots live in 64-byte buckets of 8 slot words; each key hashes to two buckets
// (two-choice hashing), so a table holds its capacity at <= 50% slot load without overflow. The
// entry of slot s is entries[s] (fixed mapping: no free list). Memory is allocated once, in the
// constructor, on the control thread.
//
// Concurrency. Any worker may look up, insert, update and remove; the control thread sweeps
// expired entries and dumps the table. Nobody takes a lock:
//  - a slot word holds {generation, signature, state}; every transition (empty -> busy -> valid
//    -> empty) is a compare-and-swap that bumps the generation, so a stale reader never
//    mistakes a reused slot for its old entry (ABA);
//  - a reader checks the slot word, reads the key (atomic words), then re-reads the slot word:
//    if it changed, the match is void (a seqlock read; readers never block writers);
//  - connection state and timestamps are atomics updated with relaxed stores / CAS.
// Two workers that see the first packets of one connection at the same instant may both insert
// it; lookups then find one of the two and the other ages out. Nothing breaks.
//
// Clock. Callers pass `now_ms`, a wrapping 32-bit millisecond clock (the dataplane derives it
// from the TSC); ages are computed with wrapping arithmetic.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace dvr::dp {

// A packet's flow as the packet shows it, in host byte order. The table only compares ports; the
// convention for ICMP is the caller's (filter_engine.cc): an echo request is (id -> 0x0800) and
// its reply (0x0800 -> id), so both belong to one connection; other ICMP is
// (type << 8 | code -> 0); protocols without ports use 0 and 0.
// The "port" of the answering end of an ICMP echo conversation (what the classifier reads as
// type 8, code 0): the request is keyed (id -> kIcmpEchoKeyPort), the reply the other way round.
inline constexpr uint16_t kIcmpEchoKeyPort = 0x0800;

struct FlowKey {
  uint32_t src_ip = 0;
  uint32_t dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t protocol = 0;
  uint16_t zone = 0;  // the VM port (dataplane port id) whose security groups admitted the flow
};

// Connection states. TCP follows the handshake and teardown; every other protocol uses kNew
// until a reply is seen, then kReplied.
enum class ConnState : uint8_t {
  kNew,         // non-TCP, no reply seen yet
  kReplied,     // non-TCP, traffic seen both ways
  kTcpSynSent,  // originator sent SYN
  kTcpSynRecv,  // responder answered SYN+ACK
  kTcpEstablished,
  kTcpFinWait,   // one side sent FIN
  kTcpTimeWait,  // both sides sent FIN
  kTcpClose,     // RST seen
  kCount,
};
const char* conn_state_name(ConnState s);  // "new", "replied", "syn_sent", ..., "close"

// Idle timeouts in seconds, per protocol and state (defaults follow Linux conntrack, with a
// shorter established TCP timeout: 2 hours instead of 5 days).
struct ConnTimeouts {
  uint32_t tcp_syn_sent = 120;
  uint32_t tcp_syn_recv = 60;
  uint32_t tcp_established = 7200;
  uint32_t tcp_fin_wait = 120;
  uint32_t tcp_time_wait = 120;
  uint32_t tcp_close = 10;
  uint32_t udp_new = 30;
  uint32_t udp_replied = 180;
  uint32_t icmp = 30;
  uint32_t other_new = 60;
  uint32_t other_replied = 600;

  uint32_t for_state(uint8_t protocol, ConnState s) const;  // seconds
};

// TCP flag bits as in the TCP header's flags byte.
inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

// A copy of one entry, for dumps (control thread).
struct ConnView {
  FlowKey orig;  // the originating direction
  ConnState state;
  bool created_at_ingress;  // admitted by the zone's ingress rules (else its egress rules)
  uint32_t policy;          // ConnTable::insert's `policy`, as last confirmed
  uint32_t age_ms;          // since creation
  uint32_t idle_ms;         // since the last packet
  uint32_t expires_in_ms;   // 0 when already expired but not yet swept
};

class ConnTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // `capacity`: the number of connections the table is sized for (1 .. 1<<24); the table
  // allocates 2 * capacity slots rounded up to a power of two (32 bytes of entry + 8 of slot
  // word each). Throws std::bad_alloc / std::invalid_argument.
  ConnTable(uint32_t capacity, const ConnTimeouts& timeouts);
  ~ConnTable();
  ConnTable(const ConnTable&) = delete;
  ConnTable& operator=(const ConnTable&) = delete;

  uint32_t capacity() const { return capacity_; }
  uint32_t slot_count() const { return slot_count_; }
  const ConnTimeouts& timeouts() const { return timeouts_; }

  // The key's hash (direction-independent: a flow and its reply hash alike).
  uint64_t hash(const FlowKey& key) const;
  // Prefetches the key's two buckets (call a few packets ahead of lookup).
  void prefetch(uint64_t hash) const;
  // Prefetches the entries whose signature matches (call once the buckets have arrived, before
  // lookup): a burst's lookups then wait for memory once, not once per packet.
  void prefetch_entries(uint64_t hash) const;

  struct Hit {
    uint32_t slot = kNone;    // kNone: no live entry
    bool reply = false;       // the packet travels in the reply direction
    uint32_t generation = 0;  // the slot's generation when found (see remove(const Hit&))
  };
  // Finds the live entry of the key's connection, in either direction. An entry past its
  // timeout is not live: lookup removes it and reports a miss.
  Hit lookup(const FlowKey& key, uint64_t hash, uint32_t now_ms);

  enum class Update : uint8_t {
    kOk,       // state advanced (or unchanged); packet belongs to the connection
    kRestart,  // a fresh SYN on a closed / time-wait TCP connection: the caller should remove
               // the entry and treat the packet as a new connection
  };
  // Accounts a packet of a live entry: refreshes its timestamp and advances its state.
  // `tcp_flags` is ignored for non-TCP protocols.
  Update track(uint32_t slot, bool reply, uint8_t tcp_flags, uint32_t now_ms);

  // Inserts a new connection with `key` as its originating direction. The initial state comes
  // from the protocol and `tcp_flags` (SYN without ACK: syn_sent; RST: close; any other TCP
  // packet: established, i.e. mid-stream pickup). If both buckets are full, an expired entry in
  // them is reclaimed first. Returns the slot, or kNone when the table has no room for it.
  uint32_t insert(const FlowKey& key, uint64_t hash, uint8_t tcp_flags, bool at_ingress,
                  uint32_t policy, uint32_t now_ms);

  // Removes the entry `hit` found, unless its slot has been reused since (another worker or the
  // sweep removed it, and a new connection took the slot): workers must use this one, so that
  // they never remove somebody else's connection. Returns true if this call removed it.
  bool remove(const Hit& hit);
  // Removes whatever entry is at `slot` (control thread and tests). True if this call did.
  bool remove(uint32_t slot);

  // The policy the entry was last confirmed against, and its confirmation (CAS from `seen`;
  // false if somebody changed it first).
  uint32_t policy(uint32_t slot) const;
  bool confirm_policy(uint32_t slot, uint32_t seen, uint32_t policy);
  // The entry's originating key and where it was admitted, for re-checking it against rules.
  FlowKey orig_key(uint32_t slot) const;
  bool created_at_ingress(uint32_t slot) const;
  ConnState state(uint32_t slot) const;

  // Control thread: removes up to the entries of `max_slots` slots that are past their timeout,
  // continuing where the previous call stopped (a full pass is slot_count() / max_slots calls).
  // Returns the number removed.
  uint32_t sweep(uint32_t now_ms, uint32_t max_slots);

  // Control thread: calls `fn` for every live entry (a consistent copy of each; entries may come
  // and go during the walk). Stops early if `fn` returns false.
  void for_each(uint32_t now_ms, const std::function<bool(const ConnView&)>& fn) const;
  // Live entries, counted by a walk of the table (control thread).
  uint32_t count_live(uint32_t now_ms) const;

 private:
  struct Entry;
  struct Bucket;

  uint32_t capacity_;
  uint32_t slot_count_;
  uint32_t bucket_mask_;
  ConnTimeouts timeouts_;
  Bucket* buckets_ = nullptr;
  Entry* entries_ = nullptr;
  size_t bucket_bytes_ = 0, entry_bytes_ = 0;
  uint32_t sweep_cursor_ = 0;
};

}  // namespace dvr::dp

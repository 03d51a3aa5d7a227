// Every way a packet can die in dvrd has a name here, and a counter per port.
#pragma once

#include <array>
#include <cstdint>

namespace dvr::dp {

// Append new reasons at the end of their group; names are a stable API (dvrctl, scripts).
enum class DropReason : uint8_t {
  kFrameTooShort,     // shorter than an Ethernet header
  kNoForwardingPath,  // no stage claimed the packet (nothing configured for it)
  kXconnectPeerDown,  // the port's xconnect peer is not present
  kPuntQueueFull,     // the exception queue to the control thread was full
  kTxQueueFull,       // the driver's tx queue did not accept the packet
  kTxHandoffFull,     // the hand-off ring to the tx-queue owner was full
  kPortRemoved,       // in flight towards a port that was removed
  kCount,
};

inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount);

inline constexpr std::array<const char*, kDropReasonCount> kDropReasonNames = {
    "frame_too_short", "no_forwarding_path", "xconnect_peer_down", "punt_queue_full",
    "tx_queue_full",   "tx_handoff_full",    "port_removed",
};

inline constexpr const char* drop_reason_name(DropReason r) {
  return kDropReasonNames[static_cast<size_t>(r)];
}

// Why a packet was handed to the control thread.
enum class PuntReason : uint8_t {
  kArp,            // ARP needs an answer or learning (answered in the fast path once routing lands)
  kLocalDelivery,  // addressed to dvrd itself
  kCount,
};

inline constexpr size_t kPuntReasonCount = static_cast<size_t>(PuntReason::kCount);
inline constexpr std::array<const char*, kPuntReasonCount> kPuntReasonNames = {"arp",
                                                                               "local_delivery"};

}  // namespace dvr::dp

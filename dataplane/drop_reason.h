// Every way a packet can die in dvrd has a name here, and a counter per port (and, for packets
// a router handled, per router).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace dvr::dp {

// Append new reasons at the end of their group; names are a stable API (dvrctl, scripts).
enum class DropReason : uint8_t {
  // Platform
  kFrameTooShort,     // shorter than an Ethernet header
  kNoForwardingPath,  // no stage claimed the packet (e.g. a port bound to no VM port)
  kXconnectPeerDown,  // the port's xconnect peer is not present
  kPuntQueueFull,     // the exception queue to the control thread was full
  kTxQueueFull,       // the driver's tx queue did not accept the packet
  kTxHandoffFull,     // the hand-off ring to the tx-queue owner was full
  kPortRemoved,       // in flight towards a port that was removed
  // Port security and L2 (stages/port_input.cc, arp.cc, l2_switch.cc)
  kSpoofedSourceMac,     // source MAC is not the VM port's (nor an allowed pair's)
  kSpoofedSourceIp,      // source IP (or ARP sender IP) is not the VM port's
  kArpMalformed,         // not Ethernet/IPv4 ARP, or truncated
  kArpNotRequest,        // ARP replies and announcements: dvrd owns the neighbor table
  kArpUnknownTarget,     // ARP request for an address nobody has on the network
  kBroadcastNotFlooded,  // broadcast/multicast other than ARP, and nowhere to flood it to
  kUnknownUnicast,       // destination MAC unknown on the network, and nowhere to flood it to
  kRemoteDestination,    // destination on another host, and no overlay to it (not configured,
                         // or the VM port names no known host)
  // IPv4 (stages/ip4_input.cc, ip4_lookup.cc, ip4_rewrite.cc)
  kNotIpv4,            // sent to a gateway MAC but not IPv4
  kIpHeaderMalformed,  // version is not 4, header shorter than 20 bytes, or truncated
  kIpOptions,          // IP options are not forwarded
  kIpBadChecksum,      // IPv4 header checksum is wrong
  kIpBadLength,        // total length shorter than the header or longer than the frame
  kIpFragment,         // fragments are not forwarded
  kRouterAdminDown,    // the router has admin_state_up=false
  kNoRoute,            // no route in the router's table (ICMP net unreachable sent)
  kTtlExceeded,        // TTL would reach 0 (ICMP time exceeded sent)
  kHostUnreachable,    // no neighbor for the destination (ICMP host unreachable sent)
  kLocalUnsupported,   // to the router's own address, but not an ICMP echo request
  // Filtering (filter_engine.cc): network ACLs and security groups
  kAclIngressDenied,  // the destination network's ACL denied it (a rule or the default)
  kAclEgressDenied,   // the source network's ACL denied it
  kSgIngressDenied,   // no security-group rule of the destination VM admits it
  kSgEgressDenied,    // no security-group rule of the source VM admits it
  kSgRevoked,         // its connection was admitted, but the changed rules no longer allow it
  kConntrackFull,     // a new connection, and the conntrack table has no room for it
  kSgNotIpv4,         // not IPv4 (nor ARP), to or from a port with security groups
  kL4Truncated,       // a filtered TCP/UDP/ICMP packet too short for its transport header
  // The overlay (overlay/, stages/uplink_input.cc): VXLAN between hosts and the underlay
  kUnderlayUnresolved,   // the remote host's underlay next hop has no ARP entry (or no route)
  kOverlayMtuExceeded,   // the frame plus 50 bytes of VXLAN exceeds the uplink's MTU
  kEncapNoHeadroom,      // no room in the mbuf for the outer headers
  kFloodNoMbuf,          // the mbuf pool had no buffer for a flood copy
  kVxlanMalformed,       // on the uplink: a truncated or invalid VXLAN packet or inner frame
  kVxlanUnknownVtep,     // VXLAN from an address that is no known remote host's tunnel IP
  kVxlanUnknownVni,      // VXLAN with a VNI no network of ours has
  kVxlanNotLocal,        // a decapsulated unicast frame for a MAC not on this host
  kUnderlayNotLocal,     // IPv4 on the uplink for another address than our tunnel IP
  kUnderlayUnsupported,  // to our tunnel IP, but not ARP, ping or VXLAN (or another ethertype)
  kUnderlayArpIgnored,   // ARP on the uplink that is not for our tunnel IP
  // North-south (stages/external_input.cc, nat44_out.cc, nat/): external networks and NAT
  kExternalUnknownVlan,  // on an external port: a VLAN (or untagged) no served network uses
  kExternalNotLocal,     // IPv4 on an external network for an address this host does not serve
  kExternalUnsupported,  // on an external network: neither ARP nor IPv4, or to our gateway
                         // address but not ping
  kExternalArpIgnored,   // ARP on an external network that is not for an address we serve
  kExternalUnresolved,   // the external next hop has no ARP entry yet (its resolution is asked)
  kNoExternalPath,       // the router's external network is not served on this host
  kSnatDisabled,         // external-bound from a VM without a floating IP, enable_snat=false
  kNoSnatHost,           // ... and the router's SNAT is bound to no (known) host
  kSnatNotHosted,        // sent here for SNAT over the overlay, but this host does not serve it
  kSnatNoSession,        // to a SNAT address: no session holds that port
  kSnatPortsExhausted,   // a new SNAT session, and no port of the range was free
  kNatUntranslatable,    // SNAT needs ports: a fragment, a protocol other than TCP/UDP/ICMP
                         // echo, a truncated header, or an ICMP error quoting no session
  kHairpinQueueFull,     // to a floating IP / SNAT address of this host: the loop-back was full
  kCount,
};

inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount);

inline constexpr std::array<const char*, kDropReasonCount> kDropReasonNames = {
    "frame_too_short",
    "no_forwarding_path",
    "xconnect_peer_down",
    "punt_queue_full",
    "tx_queue_full",
    "tx_handoff_full",
    "port_removed",
    "spoofed_source_mac",
    "spoofed_source_ip",
    "arp_malformed",
    "arp_not_request",
    "arp_unknown_target",
    "broadcast_not_flooded",
    "unknown_unicast",
    "remote_destination",
    "not_ipv4",
    "ip_header_malformed",
    "ip_options",
    "ip_bad_checksum",
    "ip_bad_length",
    "ip_fragment",
    "router_admin_down",
    "no_route",
    "ttl_exceeded",
    "host_unreachable",
    "local_unsupported",
    "acl_ingress_denied",
    "acl_egress_denied",
    "sg_ingress_denied",
    "sg_egress_denied",
    "sg_revoked",
    "conntrack_full",
    "sg_not_ipv4",
    "l4_truncated",
    "underlay_unresolved",
    "overlay_mtu_exceeded",
    "encap_no_headroom",
    "flood_no_mbuf",
    "vxlan_malformed",
    "vxlan_unknown_vtep",
    "vxlan_unknown_vni",
    "vxlan_not_local",
    "underlay_not_local",
    "underlay_unsupported",
    "underlay_arp_ignored",
    "external_unknown_vlan",
    "external_not_local",
    "external_unsupported",
    "external_arp_ignored",
    "external_unresolved",
    "no_external_path",
    "snat_disabled",
    "no_snat_host",
    "snat_not_hosted",
    "snat_no_session",
    "snat_ports_exhausted",
    "nat_untranslatable",
    "hairpin_queue_full",
};

static_assert(kDropReasonNames.back() != nullptr, "every drop reason needs a name");

inline constexpr const char* drop_reason_name(DropReason r) {
  return kDropReasonNames[static_cast<size_t>(r)];
}

// Why a packet was handed to the control thread.
enum class PuntReason : uint8_t {
  kArp,          // ARP on a port bound to no VM port: counted by the control thread, for visibility
  kUnderlayArp,  // an ARP reply to our tunnel IP: the control thread learns the underlay neighbour
  kExternalArp,  // ARP on an external network from a neighbour (reply or announcement): learnt
  // A packet whose external next hop is unresolved (it is dropped): the control thread sends an
  // ARP request. The mbuf's hash.fdir.lo holds the neighbour's address (host order) and
  // hash.fdir.hi the external network's index.
  kExternalResolve,
  kCount,
};

inline constexpr size_t kPuntReasonCount = static_cast<size_t>(PuntReason::kCount);
inline constexpr std::array<const char*, kPuntReasonCount> kPuntReasonNames = {
    "arp", "underlay_arp", "external_arp", "external_resolve"};

}  // namespace dvr::dp

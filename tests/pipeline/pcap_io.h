// Reading and writing pcap files for pipeline tests (libpcap).
#pragma once

#include <string>
#include <vector>

namespace dvr::test {

using Frame = std::vector<unsigned char>;

void write_pcap(const std::string& path, const std::vector<Frame>& frames);
std::vector<Frame> read_pcap(const std::string& path);

// Frame builders: every byte is deterministic so that outputs can be compared exactly.
Frame ipv4_udp_frame(unsigned seq, size_t payload_len = 18);
Frame arp_request_frame(unsigned seq);

}  // namespace dvr::test

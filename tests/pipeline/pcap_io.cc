#include "pcap_io.h"

#include <pcap/pcap.h>

#include <stdexcept>

namespace dvr::test {

void write_pcap(const std::string& path, const std::vector<Frame>& frames) {
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
  pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
  if (d == nullptr) throw std::runtime_error("cannot write " + path);
  for (const Frame& f : frames) {
    pcap_pkthdr h{};
    h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
    pcap_dump(reinterpret_cast<u_char*>(d), &h, f.data());
  }
  pcap_dump_close(d);
  pcap_close(dead);
}

std::vector<Frame> read_pcap(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  if (p == nullptr) throw std::runtime_error("cannot read " + path + ": " + err);
  std::vector<Frame> out;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(p, &h, &data) == 1) out.emplace_back(data, data + h->caplen);
  pcap_close(p);
  return out;
}

Frame ipv4_udp_frame(unsigned seq, size_t payload_len) {
  Frame f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
  const size_t ip_len = 20 + 8 + payload_len;
  const unsigned char ip[20] = {0x45,
                                0,
                                static_cast<unsigned char>(ip_len >> 8),
                                static_cast<unsigned char>(ip_len),
                                0,
                                static_cast<unsigned char>(seq),
                                0,
                                0,
                                64,
                                17,
                                0,
                                0,
                                10,
                                0,
                                1,
                                10,
                                10,
                                0,
                                2,
                                20};
  f.insert(f.end(), ip, ip + 20);
  const unsigned char udp[8] = {0x30,
                                0x39,
                                0x00,
                                0x35,
                                static_cast<unsigned char>((8 + payload_len) >> 8),
                                static_cast<unsigned char>(8 + payload_len),
                                0,
                                0};
  f.insert(f.end(), udp, udp + 8);
  for (size_t i = 0; i < payload_len; ++i) f.push_back(static_cast<unsigned char>(seq + i));
  return f;
}

Frame arp_request_frame(unsigned seq) {
  Frame f = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
             0,    0,    0,    0,    0x01, 0x08, 0x06,
             0x00, 0x01, 0x08, 0x00, 6,    4,    0x00,
             0x01, 0x02, 0,    0,    0,    0,    0x01,
             10,   0,    1,    10,   0,    0,    0,
             0,    0,    0,    10,   0,    1,    static_cast<unsigned char>(seq)};
  f.resize(60, 0);  // Ethernet minimum without FCS
  return f;
}

}  // namespace dvr::test

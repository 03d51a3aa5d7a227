#include "port_spec.h"

#include <array>
#include <cctype>
#include <set>
#include <sstream>

namespace dvr::dp {

namespace {

struct TypeInfo {
  PortType type;
  const char* name;
  const char* driver;  // vdev driver, nullptr for PCI
  std::set<std::string> allowed_keys;
  std::set<std::string> required_keys;
};

const std::array<TypeInfo, 7>& types() {
  static const std::array<TypeInfo, 7> kTypes = {{
      {PortType::kVhostUser, "vhost-user", "net_vhost", {"path"}, {"path"}},
      {PortType::kTap, "tap", "net_tap", {"iface", "mac"}, {}},
      {PortType::kAfPacket, "af-packet", "net_af_packet", {"iface"}, {"iface"}},
      {PortType::kPcap,
       "pcap",
       "net_pcap",
       {"rx_pcap", "tx_pcap", "rx_iface", "rx_iface_in", "tx_iface", "iface", "infinite_rx"},
       {}},
      {PortType::kNull, "null", "net_null", {"size", "copy", "no-rx"}, {}},
      {PortType::kRing, "ring", "net_ring", {}, {}},
      {PortType::kPci, "pci", nullptr, {"dev", "devargs"}, {"dev"}},
  }};
  return kTypes;
}

const TypeInfo& info(PortType t) {
  for (const auto& i : types()) {
    if (i.type == t) return i;
  }
  return types()[0];
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool valid_pci_address(const std::string& s) {
  // DDDD:BB:DD.F or BB:DD.F, hex digits.
  auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  const std::string pattern = s.size() == 12 ? "hhhh:hh:hh.h" : "hh:hh.h";
  if (s.size() != pattern.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (pattern[i] == 'h' ? !hex(s[i]) : s[i] != pattern[i]) return false;
  }
  return true;
}

}  // namespace

const char* port_type_name(PortType t) {
  return info(t).name;
}

std::optional<PortType> parse_port_type(const std::string& s) {
  for (const auto& i : types()) {
    if (s == i.name) return i.type;
  }
  // Accept the underscore spellings too (vhost_user, af_packet).
  for (const auto& i : types()) {
    std::string alt = i.name;
    for (char& c : alt) c = c == '-' ? '_' : c;
    if (s == alt) return i.type;
  }
  return std::nullopt;
}

std::string port_type_list() {
  std::string out;
  for (const auto& i : types()) {
    if (!out.empty()) out += ", ";
    out += i.name;
  }
  return out;
}

std::string validate_port_spec(const PortSpec& spec) {
  if (!valid_name(spec.name)) {
    return "invalid port name '" + spec.name +
           "': use 1 to 32 characters from letters, digits, '_', '-' and '.'";
  }
  const TypeInfo& ti = info(spec.type);
  for (const auto& [key, value] : spec.args) {
    if (!ti.allowed_keys.contains(key)) {
      std::string allowed;
      for (const auto& k : ti.allowed_keys) allowed += (allowed.empty() ? "" : ", ") + k;
      return "port '" + spec.name + "': unknown argument '" + key + "' for type " + ti.name +
             (allowed.empty() ? " (it takes none)" : " (allowed: " + allowed + ")");
    }
    // Values end up inside a devargs string; a ',' or '=' would smuggle in other arguments.
    if (key != "devargs" && value.find_first_of(",=") != std::string::npos) {
      return "port '" + spec.name + "': the value of '" + key + "' must not contain ',' or '='";
    }
    if (value.empty()) return "port '" + spec.name + "': argument '" + key + "' has no value";
  }
  for (const auto& key : ti.required_keys) {
    if (!spec.args.contains(key)) {
      return "port '" + spec.name + "': type " + ti.name + " requires the argument '" + key + "'";
    }
  }
  if (spec.type == PortType::kPci && !valid_pci_address(spec.args.at("dev"))) {
    return "port '" + spec.name + "': '" + spec.args.at("dev") +
           "' is not a PCI address (expected DDDD:BB:DD.F)";
  }
  const bool kernel_iface = spec.type == PortType::kTap || spec.type == PortType::kAfPacket;
  if (kernel_iface && spec.args.contains("iface") && spec.args.at("iface").size() > 15) {
    return "port '" + spec.name + "': kernel interface names are at most 15 characters";
  }
  if (!spec.xconnect.empty() && !valid_name(spec.xconnect)) {
    return "port '" + spec.name + "': invalid xconnect peer name '" + spec.xconnect + "'";
  }
  if (spec.xconnect == spec.name) {
    return "port '" + spec.name + "': a port cannot be cross-connected to itself";
  }
  return {};
}

DeviceArgs device_args(const PortSpec& spec, unsigned queues) {
  const TypeInfo& ti = info(spec.type);
  DeviceArgs out;
  if (spec.type == PortType::kPci) {
    // DPDK names PCI devices in the full lower-case form, 0000:03:00.0.
    std::string dev = spec.args.at("dev");
    for (char& c : dev) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (dev.size() == 7) dev = "0000:" + dev;
    out.device_name = dev;
    out.devargs = out.device_name;
    if (auto it = spec.args.find("devargs"); it != spec.args.end()) out.devargs += "," + it->second;
    return out;
  }
  out.device_name = std::string(ti.driver) + "_" + spec.name;
  std::ostringstream args;
  args << out.device_name;
  for (const auto& [key, value] : spec.args) {
    // dvrd's name for the vhost socket is "path"; the driver's is "iface".
    args << ',' << (spec.type == PortType::kVhostUser && key == "path" ? "iface" : key) << '='
         << value;
  }
  const std::string q = std::to_string(queues == 0 ? 1 : queues);
  if (spec.type == PortType::kVhostUser) args << ",queues=" << q;
  if (spec.type == PortType::kAfPacket) args << ",qpairs=" << q;
  out.devargs = args.str();
  return out;
}

std::optional<PortSpec> parse_port_spec_text(const std::string& text, std::string& error) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) {
    error = "port definition '" + text + "' is not NAME=TYPE[,key=value...]";
    return std::nullopt;
  }
  PortSpec spec;
  spec.name = text.substr(0, eq);
  if (text.back() == ',' || text.find(",,") != std::string::npos) {
    error = "port definition '" + text + "' has an empty argument (stray ',')";
    return std::nullopt;
  }
  std::stringstream rest(text.substr(eq + 1));
  std::string item;
  bool first = true;
  while (std::getline(rest, item, ',')) {
    if (first) {
      first = false;
      const auto type = parse_port_type(item);
      if (!type) {
        error = "port '" + spec.name + "': unknown type '" + item +
                "' (types: " + port_type_list() + ")";
        return std::nullopt;
      }
      spec.type = *type;
      continue;
    }
    const auto kv = item.find('=');
    if (kv == std::string::npos) {
      error = "port '" + spec.name + "': argument '" + item + "' is not key=value";
      return std::nullopt;
    }
    const std::string key = item.substr(0, kv);
    const std::string value = item.substr(kv + 1);
    if (key.empty()) {
      error = "port '" + spec.name + "': argument '" + item + "' has an empty key";
      return std::nullopt;
    }
    if (key == "xconnect") {
      if (value.empty()) {
        error = "port '" + spec.name + "': argument 'xconnect' has no value";
        return std::nullopt;
      }
      if (!spec.xconnect.empty()) {
        error = "port '" + spec.name + "': argument 'xconnect' given twice";
        return std::nullopt;
      }
      spec.xconnect = value;
    } else if (!spec.args.emplace(key, value).second) {
      error = "port '" + spec.name + "': argument '" + key + "' given twice";
      return std::nullopt;
    }
  }
  if (first) {
    error = "port '" + spec.name + "': no type given (types: " + port_type_list() + ")";
    return std::nullopt;
  }
  error = validate_port_spec(spec);
  if (!error.empty()) return std::nullopt;
  return spec;
}

}  // namespace dvr::dp

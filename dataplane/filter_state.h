// Compiled filters that workers apply: network ACLs (stateless, per network and direction) and
// security-group policies (stateful, per VM port and direction). Built by the control thread
// (control/tenant/filter_compiler.cc), published inside an L3State version and never changed
// afterwards, except for their hit counters. An unchanged ACL or policy is shared by consecutive
// versions, so its counters keep counting across unrelated configuration changes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "counters.h"
#include "filter/classifier.h"

namespace dvr::dp {

// Per-rule counters, one row per worker (each row starts on its own cache line, so workers never
// write the same line). Written by workers through const objects, hence mutable.
class RuleHitCounters {
 public:
  RuleHitCounters(unsigned workers, uint32_t rules)
      : rows_(workers == 0 ? 1 : workers),
        lines_per_row_((rules + kPerLine - 1) / kPerLine + 1),
        lines_(new Line[static_cast<size_t>(rows_) * lines_per_row_]) {}

  void hit(unsigned worker, uint32_t rule, uint64_t n = 1) const {
    lines_[worker * lines_per_row_ + rule / kPerLine].c[rule % kPerLine].add(n);
  }
  uint64_t total(uint32_t rule) const {
    uint64_t sum = 0;
    for (unsigned w = 0; w < rows_; ++w)
      sum += lines_[w * lines_per_row_ + rule / kPerLine].c[rule % kPerLine].get();
    return sum;
  }

 private:
  static constexpr uint32_t kPerLine = 8;
  struct alignas(64) Line {
    Counter c[kPerLine];
  };
  unsigned rows_;
  uint32_t lines_per_row_;
  std::unique_ptr<Line[]> lines_;
};

// One direction of a network ACL. The classifier's userdata is the rule index + 1.
struct AclTable {
  std::unique_ptr<Classifier> classifier;
  std::vector<uint8_t> allow;  // [rule index]
  bool default_allow = false;
  RuleHitCounters hits;           // [rule index]; index allow.size() counts the default action
  std::vector<uint32_t> numbers;  // [rule index] the rule numbers, for dvrctl

  AclTable(unsigned workers, uint32_t rules) : hits(workers, rules + 1) {}
  uint32_t default_slot() const { return static_cast<uint32_t>(allow.size()); }
};

// One direction of the union of a port's security groups: allow rules only. The classifier's
// userdata is the rule index + 1.
struct SgPolicy {
  // Unique for every compiled policy (never 0). A conntrack entry remembers the policy that
  // admitted it; a packet of an entry with another policy id is re-checked against the rules.
  uint32_t id = 0;
  bool ingress = false;
  std::unique_ptr<Classifier> classifier;
  RuleHitCounters hits;  // [rule index]: connections admitted
  struct RuleRef {
    std::string group, rule;
  };
  std::vector<RuleRef> rules;  // [rule index], for dvrctl

  SgPolicy(unsigned workers, uint32_t rule_count) : hits(workers, rule_count) {}
};

}  // namespace dvr::dp

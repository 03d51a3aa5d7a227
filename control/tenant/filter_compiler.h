// Compiles the model's network ACLs and security groups into the classifiers workers use
// (dp::AclTable, dp::SgPolicy), off the fast path. Unchanged ACLs and policies are reused from
// the previous compile, so their hit counters continue and nothing is rebuilt needlessly; a
// changed ACL or policy is a new object whose counters start at zero.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "filter_state.h"
#include "l3_state.h"
#include "tenant_model.h"

namespace dvr {

class FilterCompiler {
 public:
  explicit FilterCompiler(unsigned workers) : workers_(workers) {}

  // Compiles what `model` needs. On failure nothing changes and the error says why.
  std::optional<ModelError> compile(const TenantModel& model);

  // Points the network's / port's state at the compiled filters (and makes `st` own them).
  void attach_network(const api::v1::Network& net, dp::NetworkState& ns, dp::L3State& st) const;
  void attach_port(const api::v1::VmPort& port, dp::PortBinding& b, dp::L3State& st) const;

  // Hit counters for dvrctl; nullopt when there is no such object.
  std::optional<api::v1::FilterCounters> counters(api::v1::ObjectKind kind,
                                                  const std::string& id) const;

  // Milliseconds the last compile spent building classifiers (0 when all were reused).
  double last_build_ms() const { return last_build_ms_; }
  // Milliseconds the whole last compile took (building, and checking what can be reused).
  double last_compile_ms() const { return last_compile_ms_; }

 private:
  struct CompiledAcl {
    std::string source;  // the ACL as compiled, serialized (comparing bytes is ~20x faster than
                         // comparing messages field by field: 1 ms for 10,000 rules)
    std::shared_ptr<const dp::AclTable> ingress, egress;
  };
  struct CompiledPolicy {
    std::shared_ptr<const dp::SgPolicy> ingress, egress;
  };

  std::optional<ModelError> compile_acl(const api::v1::NetworkAcl& acl, CompiledAcl& out);
  // Classifier::build, timed into last_build_ms_.
  std::unique_ptr<dp::Classifier> build_classifier(const std::vector<dp::ClassifierRule>& rules,
                                                   std::string* why);
  std::optional<ModelError> compile_policy(const TenantModel& model, const api::v1::VmPort& port,
                                           bool ingress, std::string& fingerprint,
                                           std::shared_ptr<const dp::SgPolicy>& out);

  unsigned workers_;
  std::map<std::string, CompiledAcl> acls_;                              // by ACL id
  std::map<std::string, std::shared_ptr<const dp::SgPolicy>> policies_;  // by fingerprint
  std::map<std::string, CompiledPolicy> port_policies_;                  // by VM port id
  uint32_t next_policy_id_ = 1;
  double last_build_ms_ = 0;
  double last_compile_ms_ = 0;
};

}  // namespace dvr

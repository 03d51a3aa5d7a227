// The ways a dvrctl invocation fails, and the exit status each one maps to.
#pragma once

#include <stdexcept>
#include <string>

#include "dvr.pb.h"

namespace dvrctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // dvrd refused the request, or the channel failed
inline constexpr int kExitUsage = 2;    // the command line is wrong

// A mistake on the command line. `help_for` is what to run with --help for the right usage,
// e.g. "dvrctl" or "dvrctl port add".
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& what, std::string help_for = "dvrctl")
      : std::runtime_error(what), help_for_(std::move(help_for)) {}
  const std::string& help_for() const { return help_for_; }

 private:
  std::string help_for_;
};

// dvrd answered with a status other than STATUS_OK.
class RequestFailed : public std::runtime_error {
 public:
  RequestFailed(dvr::api::v1::Status status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  dvr::api::v1::Status status() const { return status_; }

 private:
  dvr::api::v1::Status status_;
};

}  // namespace dvrctl

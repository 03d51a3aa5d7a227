// Errors the dataplane reports to the control API, with a category the API maps to a status.
#pragma once

#include <stdexcept>
#include <string>

namespace dvr::dp {

enum class ErrorKind {
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kConflict,
  kResourceExhausted,
  kInternal
};

class DataplaneError : public std::runtime_error {
 public:
  DataplaneError(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace dvr::dp

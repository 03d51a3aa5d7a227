// gtest assertions on the tenant model's results, shared by the model's unit tests.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "tenant_model.h"

namespace dvr::test {

inline ::testing::AssertionResult IsOk(const std::optional<ModelError>& e) {
  if (!e) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected success, got " << api::v1::Status_Name(e->status) << ": " << e->message;
}

// The error has `status` and its message mentions every one of `needles`.
inline ::testing::AssertionResult IsError(const std::optional<ModelError>& e,
                                          api::v1::Status status,
                                          std::initializer_list<std::string_view> needles) {
  const std::string want = api::v1::Status_Name(status);
  if (!e) return ::testing::AssertionFailure() << "expected " << want << ", got success";
  if (e->status != status) {
    return ::testing::AssertionFailure() << "expected " << want << ", got "
                                         << api::v1::Status_Name(e->status) << ": " << e->message;
  }
  for (std::string_view n : needles) {
    if (e->message.find(n) == std::string::npos) {
      return ::testing::AssertionFailure()
             << want << " message \"" << e->message << "\" does not mention \"" << n << "\"";
    }
  }
  return ::testing::AssertionSuccess() << want << ": " << e->message;
}

}  // namespace dvr::test

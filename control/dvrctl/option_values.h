// The values of a command's options: required ones, numbers and booleans. Only the syntax is
// checked here; dvrd checks what the values mean (CIDRs, MACs, IPs, references), so that there
// is one source of truth for them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "args.h"
#include "command.h"

namespace dvrctl {

// The value of `option`. Throws UsageError when it is missing or empty.
std::string required_option(const ParsedArgs& args, const Invocation& inv, std::string_view option);

// The value of `option` as a decimal number that fits in 32 bits; nullopt when not given.
// Throws UsageError when it is not one.
std::optional<uint32_t> u32_option(const ParsedArgs& args, const Invocation& inv,
                                   std::string_view option);

// The value of `option`, "true" or "false"; nullopt when not given. Throws UsageError otherwise.
std::optional<bool> bool_option(const ParsedArgs& args, const Invocation& inv,
                                std::string_view option);

}  // namespace dvrctl

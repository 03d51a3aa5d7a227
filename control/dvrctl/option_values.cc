#include "option_values.h"

#include <charconv>

#include "errors.h"

namespace dvrctl {

namespace {

std::string help_for(const Invocation& inv) {
  return "dvrctl " + inv.name;
}

}  // namespace

std::string required_option(const ParsedArgs& args, const Invocation& inv,
                            std::string_view option) {
  const auto value = args.value(option);
  if (!value) throw UsageError(inv.name + ": missing " + std::string(option), help_for(inv));
  if (value->empty()) {
    throw UsageError(inv.name + ": " + std::string(option) + " needs a non-empty value",
                     help_for(inv));
  }
  return *value;
}

std::optional<uint32_t> u32_option(const ParsedArgs& args, const Invocation& inv,
                                   std::string_view option) {
  const auto text = args.value(option);
  if (!text) return std::nullopt;
  uint32_t value = 0;
  const char* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (text->empty() || ec != std::errc() || ptr != end) {
    throw UsageError(inv.name + ": " + std::string(option) + ": '" + *text +
                         "' is not a number from 0 to 4294967295",
                     help_for(inv));
  }
  return value;
}

std::optional<bool> bool_option(const ParsedArgs& args, const Invocation& inv,
                                std::string_view option) {
  const auto text = args.value(option);
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  throw UsageError(
      inv.name + ": " + std::string(option) + ": '" + *text + "' is neither true nor false",
      help_for(inv));
}

}  // namespace dvrctl

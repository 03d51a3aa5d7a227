#include "cli.h"

#include <algorithm>
#include <exception>
#include <span>

#include "args.h"
#include "client.h"
#include "command.h"
#include "dvrctl_version.h"
#include "errors.h"
#include "format.h"
#include "global_options.h"
#include "help.h"
#include "session.h"

namespace dvrctl {

namespace {

std::string join(std::span<const std::string> words) {
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

// No command matched `words`: either a group word ("port") without a known subcommand, which
// may ask for the group's help, or an unknown command.
int no_command(std::span<const std::string> words, std::ostream& out) {
  size_t group_len = 0;
  while (group_len < words.size() && !commands_under(words.first(group_len + 1)).empty()) {
    ++group_len;
  }
  if (group_len == 0) throw UsageError("unknown command '" + words[0] + "'");
  const auto group = words.first(group_len);
  const auto rest = words.subspan(group_len);
  if (!rest.empty() && is_help_flag(rest[0])) {
    print_group_help(group, out);
    return kExitOk;
  }
  // Each next word once: "acl rule add" and "acl rule remove" both offer "rule".
  std::string choices;
  std::vector<std::string> seen;
  for (const Command* c : commands_under(group)) {
    if (c->words.size() <= group_len) continue;
    const std::string word(c->words[group_len]);
    if (std::find(seen.begin(), seen.end(), word) != seen.end()) continue;
    seen.push_back(word);
    if (!choices.empty()) choices += ", ";
    choices += word;
  }
  const std::string name = join(group);
  if (rest.empty()) {
    throw UsageError("missing " + name + " command (" + choices + ")", "dvrctl " + name);
  }
  throw UsageError("unknown " + name + " command '" + rest[0] + "' (" + choices + ")",
                   "dvrctl " + name);
}

int dispatch(const std::vector<std::string>& args, std::ostream& out) {
  size_t start = 0;
  GlobalOptions opts = parse_global_options(args, start);
  if (opts.help) {
    print_global_help(out);
    return kExitOk;
  }
  if (opts.version) {
    out << "dvrctl " << DVRCTL_VERSION << "\n";
    return kExitOk;
  }
  const auto words = std::span<const std::string>(args).subspan(start);
  if (words.empty()) throw UsageError("no command given");

  size_t consumed = 0;
  const Command* cmd = find_command(words, consumed);
  if (cmd == nullptr) return no_command(words, out);

  // Global options may also follow the command (`dvrctl port list --json`): take them out of
  // the command's arguments and parse them together with the ones given before it.
  std::vector<std::string> globals(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(start));
  if (!globals.empty() && globals.back() == "--") globals.pop_back();
  std::vector<std::string> cmd_args;
  const auto tail = words.subspan(consumed);
  for (size_t i = 0; i < tail.size(); ++i) {
    if (tail[i] == "--") {
      cmd_args.insert(cmd_args.end(), tail.begin() + static_cast<std::ptrdiff_t>(i), tail.end());
      break;
    }
    if (!is_global_option(tail[i]) || tail[i] == "--version") {
      cmd_args.push_back(tail[i]);
      continue;
    }
    globals.push_back(tail[i]);
    const bool needs_value = tail[i] != "--json" && tail[i].find('=') == std::string::npos;
    if (needs_value && i + 1 < tail.size()) globals.push_back(tail[++i]);
  }
  if (globals.size() > start) {
    size_t unused = 0;
    opts = parse_global_options(globals, unused);
  }
  Invocation inv{command_name(*cmd), std::move(cmd_args)};
  for (const std::string& arg : inv.args) {
    if (arg == "--") break;
    if (is_help_flag(arg)) {
      print_command_help(*cmd, out);
      return kExitOk;
    }
  }
  Session session(std::move(opts), out);
  return cmd->run(session, inv);
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    return dispatch(args, out);
  } catch (const UsageError& e) {
    err << "dvrctl: " << e.what() << "\n"
        << "Try '" << e.help_for() << " --help' for more information.\n";
    return kExitUsage;
  } catch (const RequestFailed& e) {
    err << "dvrctl: " << dvr::status_name(e.status());
    if (*e.what() != '\0') err << ": " << printable(e.what());
    err << "\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    // dvr::ClientError (cannot connect, timeout, bad frame, refused hello) and anything else.
    err << "dvrctl: " << printable(e.what()) << "\n";
    return kExitFailure;
  } catch (...) {
    err << "dvrctl: unexpected error\n";
    return kExitFailure;
  }
}

}  // namespace dvrctl

// Shared helpers for command output: errors to stderr with one prefix, and
// the exit code convention (0 ok, 1 refused/failed, 2 usage).
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "base/status.h"

namespace graft::cli {

[[noreturn]] inline void Fail(const Error& e, int code = 1) {
  fmt::print(stderr, "graft: {}\n", e.message());
  throw CLI::RuntimeError(code);
}

template <typename T>
T Check(Result<T> r) {
  if (!r.ok()) Fail(r.error());
  return std::move(r).value();
}

// --allow-unsigned on commands that load bundles or kernel modules; the
// policy itself is in src/trust/signature.h.
inline std::shared_ptr<bool> AddAllowUnsigned(CLI::App* cmd) {
  auto flag = std::make_shared<bool>(false);
  cmd->add_flag("--allow-unsigned", *flag,
                "Accept input without a signature (development; GRAFT_ALLOW_UNSIGNED=1 does the same).\n"
                "A signature that does not verify is refused even then");
  return flag;
}
bool UnsignedAllowed(bool flag);

// Refuses (exit 1) a bundle or module whose signature does not verify under
// the policy, before anything reads it further.
void RequireSignature(const std::string& file, bool allow_unsigned_flag);

}  // namespace graft::cli

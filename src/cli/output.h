// Shared helpers for command output: errors to stderr with one prefix, and
// the exit code convention (0 ok, 1 refused/failed, 2 usage).
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

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

}  // namespace graft::cli

// Errors as values. Every fallible function returns Result<T> (or Status for
// no value); the message names the input, the symbol or the process and what
// the user can do, because it ends up printed verbatim by the CLI.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace graft {

// What a failure left behind, for callers and exit statuses to tell apart
// (like LevelDB's Status::IsNotFound/IsCorruption). Most errors are kOther:
// nothing was changed, for a reason the message gives.
enum class ErrorKind : char {
  kOther = 'o',
  kBusy = 'b',           // gave up waiting for a consistent moment; nothing changed
  kTargetChanged = 't',  // the code that runs is not what the patch expects; nothing changed
  kPartial = 'p',        // something was left half-done; the message names it
  kInterrupted = 'i',    // stopped on request (SIGINT/SIGTERM); nothing changed
};

class Error {
 public:
  explicit Error(std::string message, ErrorKind kind = ErrorKind::kOther)
      : message_(std::move(message)), kind_(kind) {}
  const std::string& message() const { return message_; }
  ErrorKind kind() const { return kind_; }
  Error WithKind(ErrorKind k) const { return Error(message_, k); }
  // Adds outer context: "apply fix.graft: " + inner message.
  Error context(std::string_view prefix) const {
    return Error(std::string(prefix) + ": " + message_, kind_);
  }

 private:
  std::string message_;
  ErrorKind kind_;
};

template <typename... Args>
Error Err(fmt::format_string<Args...> f, Args&&... args) {
  return Error(fmt::format(f, std::forward<Args>(args)...));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }
  // The value, or `alt` when this is an error (for lookups that may fail).
  T value_or(T alt) const& { return ok() ? value() : std::move(alt); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status OkStatus() { return Ok{}; }

}  // namespace graft

// Propagates an error from an expression returning Result/Status.
#define GRAFT_TRY(expr)                          \
  do {                                           \
    auto _graft_r = (expr);                      \
    if (!_graft_r.ok()) return _graft_r.error(); \
  } while (0)

#define GRAFT_CONCAT_INNER(a, b) a##b
#define GRAFT_CONCAT(a, b) GRAFT_CONCAT_INNER(a, b)
// GRAFT_ASSIGN(auto x, expr): declares x from a Result or returns its error.
#define GRAFT_ASSIGN(decl, expr)                                     \
  auto GRAFT_CONCAT(_graft_a, __LINE__) = (expr);                    \
  if (!GRAFT_CONCAT(_graft_a, __LINE__).ok())                        \
    return GRAFT_CONCAT(_graft_a, __LINE__).error();                 \
  decl = std::move(GRAFT_CONCAT(_graft_a, __LINE__)).value()

// Exceptions used by all harness tools.  Each tool catches them in main():
// UsageError -> usage text, exit 2; SkipError -> message, exit 4; anything
// else -> message, exit 1.
#pragma once

#include <stdexcept>
#include <string>

namespace mmscale {

// A failed system call: carries the call's name and errno.
class SysError : public std::runtime_error {
 public:
  SysError(std::string call, int err);
  const std::string& call() const { return call_; }
  int err() const { return err_; }

 private:
  std::string call_;
  int err_;
};

// Throws SysError(call, errno); for use right after a failing syscall.
[[noreturn]] void throw_errno(std::string call);

// Bad command line; the message says what is wrong.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The test cannot run here (missing module, unsupported kernel feature).
class SkipError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitSkip = 4;

}  // namespace mmscale

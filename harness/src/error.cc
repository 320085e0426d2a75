#include "error.h"

#include <cerrno>
#include <cstring>

namespace mmscale {

SysError::SysError(std::string call, int err)
    : std::runtime_error(call + ": " + std::strerror(err) + " (errno " + std::to_string(err) + ")"),
      call_(std::move(call)),
      err_(err) {}

void throw_errno(std::string call) { throw SysError(std::move(call), errno); }

}  // namespace mmscale

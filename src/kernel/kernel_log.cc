#include "kernel/kernel_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace graft::kernel {

KernelLogTail::KernelLogTail(const std::string& device) {
  fd_ = open(device.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ >= 0) lseek(fd_, 0, SEEK_END);
}

KernelLogTail::~KernelLogTail() {
  if (fd_ >= 0) close(fd_);
}

std::vector<std::string> KernelLogTail::NewMessages() {
  std::vector<std::string> out;
  if (fd_ < 0) return out;
  // One record per read: "prio,seq,usec,flags;text\n" and continuation
  // lines (" KEY=value") that carry no message.
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd_, buf, sizeof buf - 1);
    if (n < 0 && errno == EPIPE) continue;  // records overwritten meanwhile: go on from the next
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::string rec(buf, n);
    size_t semi = rec.find(';');
    if (semi == std::string::npos) continue;
    std::string text = rec.substr(semi + 1);
    text = text.substr(0, text.find('\n'));
    if (!text.empty()) out.push_back(std::move(text));
  }
  return out;
}

}  // namespace graft::kernel

// The kernel's log records written from a point on (/dev/kmsg), so that a
// refusal can quote the kernel's own reason ("pre-patch callback failed for
// object ...") instead of only an errno.
#pragma once

#include <string>
#include <vector>

namespace graft::kernel {

class KernelLogTail {
 public:
  // Positioned at the end of the log; reads nothing when /dev/kmsg cannot
  // be opened (no devtmpfs, no permission): the log only adds detail.
  explicit KernelLogTail(const std::string& device = "/dev/kmsg");
  ~KernelLogTail();
  KernelLogTail(const KernelLogTail&) = delete;
  KernelLogTail& operator=(const KernelLogTail&) = delete;

  // The messages logged since construction (or the last call), text only.
  std::vector<std::string> NewMessages();

 private:
  int fd_ = -1;
};

}  // namespace graft::kernel

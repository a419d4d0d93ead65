// The sources of an installed Debian kernel image, fetched on demand:
// Debian's linux-source-X.Y package of exactly the image's version (Debian's
// patches applied, as the image was built), downloaded once with apt-get and
// extracted once, whole (a fix may need any directory: ../bridge/ headers,
// libxfs/, arch/). Cached in $GRAFT_CACHE/kernel (root:
// /var/cache/graft/kernel), the layout the tests share; graft never writes
// into the extracted tree afterwards (fixes are applied to overlays).
#pragma once

#include <functional>
#include <string>

#include "base/status.h"

namespace graft::kernel {

// Returns the whole source tree of kernel `release`.
Result<std::string> DebianKernelSource(const std::string& release,
                                       const std::function<void(const std::string&)>& progress);

}  // namespace graft::kernel

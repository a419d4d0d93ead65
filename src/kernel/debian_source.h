// The sources of an installed Debian kernel image, fetched on demand:
// Debian's linux-source-X.Y package of exactly the image's version (Debian's
// patches applied, as the image was built), downloaded once with apt-get and
// only the directories a fix needs extracted from its tarball. Cached in
// $GRAFT_CACHE/kernel (root: /var/cache/graft/kernel), the layout the tests
// share.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::kernel {

// Returns the tree (holding at least `dirs`) for kernel `release`.
Result<std::string> DebianKernelSource(const std::string& release, const std::vector<std::string>& dirs,
                                       const std::function<void(const std::string&)>& progress);

// The directories a unified diff touches, read from its "+++" lines (a/ b/
// prefixes removed), for fetching before the tree exists.
Result<std::vector<std::string>> DiffDirectories(const std::string& diff);

}  // namespace graft::kernel

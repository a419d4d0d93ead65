// Reads a file that may be gzip- or xz-compressed, recognised by its magic
// bytes rather than its name (repositories serve updateinfo.xml.gz and .xz).
#pragma once

#include <string>

#include "base/status.h"

namespace graft::advisory {

Result<std::string> ReadMaybeCompressed(const std::string& path);

}  // namespace graft::advisory

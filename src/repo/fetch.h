// Fetching repository files: http(s) through libcurl (TLS verified, redirects
// followed, a deadline), file:// URLs and plain directories read directly.
#pragma once

#include <string>

#include "base/status.h"

namespace graft::repo {

struct FetchOptions {
  long timeout_seconds = 60;
  long long max_bytes = 512ll << 20;  // a live patch is small: anything this large is not one
};

// Writes what `base_url`/`rel` holds to `dest` (replaced atomically).
Status FetchFile(const std::string& base_url, const std::string& rel, const std::string& dest,
                 const FetchOptions& opt = {});

// The URL with its scheme checked: http://, https://, file:// or an absolute path.
Result<std::string> NormalizeUrl(const std::string& url);

}  // namespace graft::repo

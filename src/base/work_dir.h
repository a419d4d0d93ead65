// A build's work directory: the one the user named (created if missing, kept
// afterwards so the next build can reuse it), or a fresh temporary one that
// is removed when the WorkDir goes away, also on error paths.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "base/status.h"

namespace graft {

class WorkDir {
 public:
  // `given` empty: a temporary /tmp/<prefix>.XXXXXX.
  static Result<std::unique_ptr<WorkDir>> Make(const std::string& given, const std::string& prefix) {
    namespace fs = std::filesystem;
    std::unique_ptr<WorkDir> w(new WorkDir);
    if (given.empty()) {
      std::string tmpl = "/tmp/" + prefix + ".XXXXXX";
      if (!mkdtemp(tmpl.data())) return Err("cannot create a work directory: {}", std::strerror(errno));
      w->path_ = tmpl;
      w->temporary_ = true;
      return w;
    }
    std::error_code ec;
    w->path_ = fs::absolute(given).lexically_normal().string();
    fs::create_directories(w->path_, ec);
    if (ec) return Err("cannot create work directory {}: {}", w->path_, ec.message());
    return w;
  }
  ~WorkDir() {
    std::error_code ec;
    if (temporary_) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  bool temporary() const { return temporary_; }

 private:
  WorkDir() = default;
  std::string path_;
  bool temporary_ = false;
};

}  // namespace graft

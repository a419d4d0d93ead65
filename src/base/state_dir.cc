#include "base/state_dir.h"

#include <unistd.h>

#include <cstdlib>

namespace graft {

std::string StateDir() {
  if (const char* e = std::getenv("GRAFT_STATE_DIR"); e && *e) return e;
  if (geteuid() == 0) return "/var/lib/graft";
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/graft";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.local/state/graft";
}

}  // namespace graft

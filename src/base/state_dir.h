// Where graft keeps what a host has installed and decided: $GRAFT_STATE_DIR,
// else /var/lib/graft for root, else $XDG_STATE_HOME/graft (~/.local/state/graft).
#pragma once

#include <string>

namespace graft {

std::string StateDir();

}  // namespace graft

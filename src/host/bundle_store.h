// The user-space patches installed on this host: verified bundles kept in
// the state directory ($GRAFT_STATE_DIR/bundles, for root
// /var/lib/graft/bundles), each with the signature it came with. Installed
// is what the host should run; applied is what processes run (read from the
// processes themselves). `graft apply-installed` closes the gap — for the
// processes that exist now, and (graftd) for the ones that start later —
// and `graft status` shows it. A repository client installs here too.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace graft::host {

struct InstalledBundle {
  std::string id, path, description;
  std::string target_name, target_build_id;
  std::vector<std::string> cves, supersedes;
  int functions = 0;
  std::string signed_by;  // key name, "" when installed unsigned
  std::string problem;    // set when it no longer verifies (changed on disk, key no longer trusted)
};

std::string DefaultBundleStore();

// Verifies `file` (signature policy of src/trust, then the bundle's own
// validation) and installs it under its id; its .sig goes first. Installing
// an id again replaces it.
Result<InstalledBundle> InstallBundle(const std::string& file, const std::string& store, bool allow_unsigned);

Status UninstallBundle(const std::string& id, const std::string& store);

// Every installed bundle, sorted by id, each verified again: one that no
// longer verifies is listed with its `problem` (and never applied).
std::vector<InstalledBundle> ListBundles(const std::string& store);

// The installed bundles that should be active: those that verify and that no
// other installed bundle for the same build-id supersedes (the newest patch
// level); unsigned ones only when `allow_unsigned`.
std::vector<InstalledBundle> EffectiveBundles(const std::vector<InstalledBundle>& all, bool allow_unsigned);

}  // namespace graft::host

// Kernel live patches installed to come back after a reboot: copies kept in
// <records>/installed/<release>/<name>.ko, loaded by `graft kernel
// load-installed` (from a systemd unit at boot) only into the kernel release
// they were built for. A kernel upgrade thus drops them by itself: the new
// release has its own directory.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "kernel/loader.h"

namespace graft::kernel {

struct InstalledPatch {
  std::string name, release, path;
  std::vector<std::string> cves;
};

std::string InstalledDir(const std::string& records_dir, const std::string& release);

// Checks the module (a live patch; its release from vermagic) and copies it in.
// Verifies the module's signature under `opt`'s policy first and installs
// its FILE.sig with it (load-installed checks it again at every boot).
Result<InstalledPatch> InstallPatch(const std::string& module, const std::string& records_dir,
                                    const LoadOptions& opt);
Status UninstallPatch(const std::string& name, const std::string& release, const std::string& records_dir);
std::vector<InstalledPatch> ListInstalled(const std::string& records_dir, const std::string& release);

struct LoadInstalledResult {
  std::vector<std::string> loaded, already;          // names
  std::vector<std::pair<std::string, std::string>> failed;  // name, why
};

// Loads every patch installed for the running release that is not loaded yet.
LoadInstalledResult LoadInstalled(const LoadOptions& opt, const std::string& release);

// The systemd unit that runs `<graft> kernel load-installed` at boot; written
// and enabled when systemd runs this host. Returns what was done, for the user.
Result<std::string> InstallBootUnit(const std::string& graft_path);

}  // namespace graft::kernel

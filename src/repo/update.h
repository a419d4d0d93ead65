// `graft update`: brings this host up to the channels it follows.
//
// Each channel's index is fetched and verified (signature, then a sequence
// number not below the last one seen); its entries are sorted into what
// applies here — kernel patches for the running release, bundles whose target
// build-id a running process maps or an installed bundle targets — and
// what the host's delay still holds back. What is new is fetched into a
// staging directory and checked (SHA-256 from the index, then the file's own
// signature) before anything is installed; installing is one rename per file
// (src/host, src/kernel), so an interrupted update leaves each item either
// installed or not. Then the kernel patches installed for the running
// release are loaded (a cumulative one replaces the older ones in one
// transition) and every process is brought up to the installed bundles.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::repo {

struct UpdateOptions {
  std::string state_dir;       // channels, staging, last report
  std::string bundle_store;    // src/host
  std::string kernel_records;  // src/kernel
  std::string trust_store;
  bool check_only = false;     // report what would be done; fetch indexes only
  // Bring processes up to the installed bundles at the end. graftd leaves it
  // to its own full pass, which follows each update and keeps its build-id
  // cache across passes.
  bool apply_to_processes = true;
  bool allow_unsigned = false; // for installed bundles and modules; indexes must always be signed
  long long now = -1;          // seconds since the epoch; -1: the clock
  double apply_timeout = 10;   // per process
  double kernel_timeout = 60;  // per transition
  std::function<bool()> cancelled;
  std::function<void(const std::string&)> progress;
};

struct ItemReport {
  std::string subscription, channel, id, kind;
  std::string target;     // program/library name, or kernel release
  std::vector<std::string> cves;
  std::string action;     // installed, would-install, up-to-date, held, not-applicable, superseded, refused
  std::string detail;     // why, in words
};

struct ChannelReport {
  std::string name, url, channel;
  long long sequence = 0;
  std::string error;
};

struct UpdateReport {
  std::string time;
  bool check_only = false;
  std::vector<ChannelReport> channels;
  std::vector<ItemReport> items;
  std::vector<std::string> kernel_loaded;
  std::vector<std::pair<std::string, std::string>> kernel_failed;
  std::vector<std::string> applied;  // one line per (process, bundle)
  std::vector<std::string> apply_failed;
  bool ok() const;
};

UpdateReport RunUpdate(const UpdateOptions& opt);

// Whether a file named `name` in one of `dirs` (default: the system's
// program and library directories) has GNU build-id `build_id`: a program
// or library that is installed but not running now, whose patch graftd then
// applies when it starts.
bool InstalledFileHasBuildId(const std::string& name, const std::string& build_id,
                             const std::vector<std::string>& dirs = {});

// The last update's report as written to <state>/last-update.json (for graft status).
std::string LastUpdatePath(const std::string& state_dir);

// What the followed channels say about kernel `release`'s support.
struct ChannelSupport {
  bool known = false;  // some channel states a policy for this release
  bool supported = false;
  std::string until, since, note, source, reason;
};
ChannelSupport SupportFromChannels(const std::string& state_dir, const std::string& release, long long now);

}  // namespace graft::repo

// The index of a graft patch repository: a plain directory any web server
// can serve.
//
//   index.json (+ index.json.sig)   what is published, per channel, and the
//                                   support policy per kernel release
//   bundles/ID.graft (+ .sig)       user-space bundles
//   kernel/NAME.ko (+ .sig)         kernel live patch modules
//   updateinfo.xml, osv/ID.json     the advisories, for dnf-style tools and
//                                   `graft advisories import`
//
// The index expires (30 days after it was signed, by default): a publisher
// refreshes it (`graft repo refresh`, e.g. daily from cron) and a host
// refuses an expired one, so a frozen mirror shows as an error, not as
// "nothing new".
//
// A channel ("stable", "testing", an opt-in topic) lists entries: the file,
// what it applies to (a target build-id, or a kernel release), its CVEs, the
// patch levels it supersedes and when it entered that channel (a host's
// delay counts from then). The index carries a sequence number that grows
// with every change: a host refuses an index older than one it has seen, so
// a stale mirror or a replayed index cannot take fixes away.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::repo {

struct Entry {
  std::string id;
  std::string kind;             // "bundle" or "kernel"
  std::string file;             // relative to the repository
  std::string sha256;           // of the file, hex: a fetched copy must match before its .sig is read
  std::string target_build_id;  // bundles
  std::string target_name;
  std::string kernel_release;   // kernel modules
  bool cumulative = false;      // kernel: replaces every earlier live patch
  std::string severity;         // of the advisory: critical, important, moderate, low
  std::string description;
  std::vector<std::string> cves, supersedes;
  std::string published;        // UTC ISO 8601, when it entered this channel
};

// How long a kernel release receives live patches from this repository.
struct ReleasePolicy {
  std::string since, until;  // YYYY-MM-DD
  std::string note;
};

struct Index {
  long long sequence = 0;
  std::string generated;
  // After this moment hosts refuse the index: a mirror that stopped
  // updating (or an attacker replaying the newest index forever) cannot
  // keep hosts from learning about new fixes. `graft repo refresh` re-signs.
  std::string expires;
  std::map<std::string, std::vector<Entry>> channels;
  std::map<std::string, ReleasePolicy> kernel_policy;  // by kernel release (uname -r)
};

Result<Index> ParseIndex(const std::string& json_text, const std::string& origin);
std::string SerializeIndex(const Index& index);

// UTC ISO 8601 of `t` (default now), and seconds since the epoch of such a
// string or of YYYY-MM-DD (-1 if malformed).
std::string Iso8601(long long t = -1);
long long ParseTime(const std::string& s);

}  // namespace graft::repo

// A graft patch repository: a plain directory any web server can serve.
//
//   index.json (+ index.json.sig)   what is published, per channel
//   bundles/ID.graft (+ .sig)       user-space bundles
//   kernel/NAME.ko (+ .sig)         kernel live patch modules
//
// Each channel ("stable", "testing", opt-in topics) lists entries: the file,
// what it applies to (a target build-id, or a kernel release), its CVEs,
// the patch levels it supersedes, and when it was published there (the
// delay policy of a host counts from that moment). Promoting an entry to
// another channel publishes it there anew. The index is signed by the
// publisher's key, and so is every file: a host trusts nothing it fetched
// before the signatures verify with its trust store.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "trust/keys.h"

namespace graft::repo {

struct Entry {
  std::string id;
  std::string kind;    // "bundle" or "kernel"
  std::string file;    // relative to the repository
  std::string target_build_id;  // bundles
  std::string target_name;
  std::string kernel_release;   // kernel modules
  std::vector<std::string> cves, supersedes;
  std::string published;  // UTC ISO 8601, when it entered this channel
};

struct Index {
  std::map<std::string, std::vector<Entry>> channels;
};

Result<Index> ParseIndex(const std::string& json_text, const std::string& origin);
std::string SerializeIndex(const Index& index);

// Adds signed files (each FILE.sig must verify with the local trust store,
// or `key` signs them) to `channel` of the repository in `dir` (created if
// needed), replacing an entry of the same id, and re-signs the index.
Result<std::vector<Entry>> AddToRepository(const std::string& dir, const std::string& channel,
                                           const std::vector<std::string>& files, const trust::SecretKey& key);

// Publishes entry `id` of channel `from` in channel `to` (now).
Result<Entry> Promote(const std::string& dir, const std::string& id, const std::string& from, const std::string& to,
                      const trust::SecretKey& key);

// UTC ISO 8601 of now, and seconds since the epoch of such a string (-1 if malformed).
std::string NowIso8601();
long long ParseIso8601(const std::string& s);

}  // namespace graft::repo

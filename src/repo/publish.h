// The publisher's side of a repository: `graft repo add | promote | policy`.
// Every change rewrites the signed index with a higher sequence number and
// the advisories (updateinfo.xml, osv/) from what the index holds, so the
// three never disagree.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "repo/index.h"
#include "trust/keys.h"

namespace graft::repo {

struct AddOptions {
  std::string channel = "testing";
  std::string severity;  // of the advisory; empty: from the highest CVSS the publisher knows, else unrated
  std::string now;       // ISO 8601; empty: the current time
};

// Copies signed bundles (.graft) and kernel live patch modules (.ko) into the
// repository in `dir` (created if needed) and lists them in `opt.channel`,
// replacing an entry of the same id there. Each file's FILE.sig must verify
// with the publisher's trust store, or is written with `key` when absent.
Result<std::vector<Entry>> AddToRepository(const std::string& dir, const std::vector<std::string>& files,
                                           const AddOptions& opt, const trust::SecretKey& key);

// Publishes entry `id` of channel `from` in channel `to`: its delay on hosts
// subscribed to `to` counts from now.
Result<Entry> Promote(const std::string& dir, const std::string& id, const std::string& from, const std::string& to,
                      const trust::SecretKey& key, const std::string& now = "");

// Removes entry `id` from `channel` (its file stays while another channel lists it).
Status Withdraw(const std::string& dir, const std::string& id, const std::string& channel,
                const trust::SecretKey& key);

// Sets how long kernel `release` receives live patches from this repository.
Status SetKernelPolicy(const std::string& dir, const std::string& release, const ReleasePolicy& policy,
                       const trust::SecretKey& key);

// Days an index stays valid after each signing (hosts refuse it afterwards).
inline constexpr int kDefaultValidDays = 30;

// Re-signs the index with a new expiry and sequence, nothing else changed:
// what a publisher runs regularly (cron) to show hosts the repository is alive.
Result<Index> Refresh(const std::string& dir, const trust::SecretKey& key, int valid_days = kDefaultValidDays);

// The index of the repository in `dir` (empty when there is none yet).
Result<Index> LoadIndex(const std::string& dir);

// SHA-256 of a file, hex.
Result<std::string> Sha256File(const std::string& path);

}  // namespace graft::repo

// The local advisory store: one SQLite file. Importing an advisory replaces
// any earlier record with the same id, so re-reading a repository's newer
// updateinfo.xml is idempotent.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "advisory/advisory.h"
#include "base/status.h"

struct sqlite3;

namespace graft::advisory {

struct AdvisoryFilter {
  std::string type;                     // empty: any
  std::vector<std::string> severities;  // normalized names; empty: any
  std::string cve;                      // advisories that fix this CVE
  std::string package;                  // advisories that fix this package name
};

class AdvisoryStore {
 public:
  // Creates the file (and its directory) when `create` is set.
  static Result<std::unique_ptr<AdvisoryStore>> Open(const std::string& path, bool create);
  ~AdvisoryStore();

  // In one transaction; returns how many records were new (not replacements).
  Result<int> Import(const std::vector<Advisory>& advisories);
  Result<std::vector<Advisory>> List(const AdvisoryFilter& f);
  Result<std::optional<Advisory>> Get(const std::string& id);
  // Advisories naming any of these packages (source or binary names), without
  // descriptions and references.
  Result<std::vector<Advisory>> ForPackages(const std::vector<std::string>& names);
  Result<int> Count();

  // Settings kept with the advisories (the live-patch support policy).
  Result<std::optional<std::string>> GetSetting(const std::string& key);
  Status SetSetting(const std::string& key, const std::string& value);

  const std::string& path() const { return path_; }

 private:
  AdvisoryStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Exec(const std::string& sql);
  // lean: without descriptions and references (what a scan needs).
  Result<std::vector<Advisory>> Load(const std::string& where, const std::vector<std::string>& args, bool lean);

  sqlite3* db_;
  std::string path_;
};

// $GRAFT_DB, else /var/lib/graft/advisories.db for root, else
// ${XDG_DATA_HOME:-~/.local/share}/graft/advisories.db.
std::string DefaultStorePath();

}  // namespace graft::advisory

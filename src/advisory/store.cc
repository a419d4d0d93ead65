#include "advisory/store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "advisory/scan_snapshot.h"

namespace graft::advisory {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scan_snapshot(k INTEGER PRIMARY KEY CHECK(k = 0), data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS advisories(
  id TEXT PRIMARY KEY, type TEXT NOT NULL, severity TEXT NOT NULL, title TEXT NOT NULL,
  description TEXT NOT NULL, issued TEXT NOT NULL, updated TEXT NOT NULL, source TEXT NOT NULL,
  cvss_vector TEXT NOT NULL, cvss_score REAL NOT NULL);
CREATE TABLE IF NOT EXISTS cves(advisory TEXT NOT NULL, cve TEXT NOT NULL, PRIMARY KEY(advisory, cve));
CREATE INDEX IF NOT EXISTS cves_by_cve ON cves(cve);
CREATE TABLE IF NOT EXISTS packages(advisory TEXT NOT NULL, name TEXT NOT NULL, arch TEXT NOT NULL,
  version TEXT NOT NULL, ecosystem TEXT NOT NULL, filename TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS packages_by_name ON packages(name);
CREATE INDEX IF NOT EXISTS packages_by_advisory ON packages(advisory);
CREATE TABLE IF NOT EXISTS refs(advisory TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
  href TEXT NOT NULL, title TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS refs_by_advisory ON refs(advisory);
)sql";

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK) s_ = nullptr;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return s_ != nullptr; }
  sqlite3_stmt* get() const { return s_; }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  int Step() { return sqlite3_step(s_); }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string Text(int col) {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  double Real(int col) { return sqlite3_column_double(s_, col); }
  std::string Error() const { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace

std::string DefaultStorePath() {
  if (const char* e = getenv("GRAFT_DB"); e && *e) return e;
  if (geteuid() == 0) return "/var/lib/graft/advisories.db";
  std::string base;
  if (const char* x = getenv("XDG_DATA_HOME"); x && *x)
    base = x;
  else
    base = std::string(getenv("HOME") ? getenv("HOME") : ".") + "/.local/share";
  return base + "/graft/advisories.db";
}

Result<std::unique_ptr<AdvisoryStore>> AdvisoryStore::Open(const std::string& path, bool create) {
  std::error_code ec;
  if (!create && !std::filesystem::exists(path, ec))
    return Err("no advisory store at {}: import advisories first (graft advisories import FILE) or give --db", path);
  if (create) {
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) return Err("cannot create {}: {}", dir.string(), ec.message());
  }
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Err("cannot open advisory store {}: {}", path, msg);
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<AdvisoryStore> s(new AdvisoryStore(db, path));
  // Reads dominate (a scan touches tens of thousands of rows): a large page
  // cache, mmap reads and in-memory temporary tables.
  GRAFT_TRY(s->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
                    "PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY;"));
  if (auto st = s->Exec(kSchema); !st.ok()) return Err("{} is not a graft advisory store: {}", path, st.error().message());
  return s;
}

AdvisoryStore::~AdvisoryStore() { sqlite3_close(db_); }

Status AdvisoryStore::Exec(const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "unknown error";
    sqlite3_free(msg);
    return Err("{}: {}", path_, m);
  }
  return OkStatus();
}

Result<int> AdvisoryStore::Import(const std::vector<Advisory>& advisories) {
  GRAFT_TRY(Exec("BEGIN IMMEDIATE"));
  Stmt exists(db_, "SELECT 1 FROM advisories WHERE id=?");
  Stmt del_a(db_, "DELETE FROM advisories WHERE id=?"), del_c(db_, "DELETE FROM cves WHERE advisory=?"),
      del_p(db_, "DELETE FROM packages WHERE advisory=?"), del_r(db_, "DELETE FROM refs WHERE advisory=?");
  Stmt ins_a(db_, "INSERT INTO advisories VALUES(?,?,?,?,?,?,?,?,?,?)");
  Stmt ins_c(db_, "INSERT OR IGNORE INTO cves VALUES(?,?)");
  Stmt ins_p(db_, "INSERT INTO packages VALUES(?,?,?,?,?,?)");
  Stmt ins_r(db_, "INSERT INTO refs VALUES(?,?,?,?,?)");
  int added = 0;
  auto fail = [&](Stmt& s) -> Error {
    Error e = Err("{}: cannot store advisories: {}", path_, s.Error());
    (void)Exec("ROLLBACK");
    return e;
  };
  for (const Advisory& a : advisories) {
    exists.Bind(1, a.id);
    if (exists.Step() != SQLITE_ROW) added++;
    exists.Reset();
    for (Stmt* d : {&del_a, &del_c, &del_p, &del_r}) {
      d->Bind(1, a.id);
      if (d->Step() != SQLITE_DONE) return fail(*d);
      d->Reset();
    }
    ins_a.Bind(1, a.id).Bind(2, a.type).Bind(3, a.severity).Bind(4, a.title).Bind(5, a.description);
    ins_a.Bind(6, a.issued).Bind(7, a.updated).Bind(8, a.source).Bind(9, a.cvss_vector).Bind(10, a.cvss_score);
    if (ins_a.Step() != SQLITE_DONE) return fail(ins_a);
    ins_a.Reset();
    for (const auto& c : a.cves) {
      ins_c.Bind(1, a.id).Bind(2, c);
      if (ins_c.Step() != SQLITE_DONE) return fail(ins_c);
      ins_c.Reset();
    }
    for (const auto& p : a.packages) {
      ins_p.Bind(1, a.id).Bind(2, p.name).Bind(3, p.arch).Bind(4, p.version).Bind(5, p.ecosystem).Bind(6, p.filename);
      if (ins_p.Step() != SQLITE_DONE) return fail(ins_p);
      ins_p.Reset();
    }
    for (const auto& r : a.references) {
      ins_r.Bind(1, a.id).Bind(2, r.type).Bind(3, r.id).Bind(4, r.href).Bind(5, r.title);
      if (ins_r.Step() != SQLITE_DONE) return fail(ins_r);
      ins_r.Reset();
    }
  }
  // The scan's packed copy is rebuilt with the tables, in the same transaction.
  auto all = Load("", {}, true);
  if (!all.ok()) {
    (void)Exec("ROLLBACK");
    return all.error();
  }
  std::string packed = PackScanSnapshot(*all);
  Stmt snap(db_, "INSERT OR REPLACE INTO scan_snapshot VALUES(0, ?)");
  if (sqlite3_bind_blob64(snap.get(), 1, packed.data(), packed.size(), SQLITE_STATIC) != SQLITE_OK ||
      snap.Step() != SQLITE_DONE)
    return fail(snap);
  GRAFT_TRY(Exec("COMMIT"));
  return added;
}

Result<std::vector<Advisory>> AdvisoryStore::Load(const std::string& where, const std::vector<std::string>& args,
                                                  bool lean) {
  // The selected ids go to a temporary table once; the child tables are then
  // joined against it instead of re-running the filter per table.
  GRAFT_TRY(Exec("CREATE TEMP TABLE IF NOT EXISTS sel(id TEXT PRIMARY KEY); DELETE FROM sel;"));
  {
    Stmt fill(db_, "INSERT INTO sel SELECT id FROM advisories a " + where);
    if (!fill.ok()) return Err("{}: bad query: {}", path_, fill.Error());
    for (size_t i = 0; i < args.size(); i++) fill.Bind(static_cast<int>(i + 1), args[i]);
    if (fill.Step() != SQLITE_DONE) return Err("{}: {}", path_, fill.Error());
  }
  std::string cols = lean ? "a.id,a.type,a.severity,a.title,'',a.issued,a.updated,a.source,a.cvss_vector,a.cvss_score"
                          : "a.id,a.type,a.severity,a.title,a.description,a.issued,a.updated,a.source,a.cvss_vector,"
                            "a.cvss_score";
  // A scan (lean) does not care about order; listings show the newest first.
  Stmt q(db_, "SELECT " + cols + " FROM advisories a JOIN sel USING(id)" +
                  (lean ? std::string() : " ORDER BY a.issued DESC, a.id"));
  if (!q.ok()) return Err("{}: bad query: {}", path_, q.Error());
  std::vector<Advisory> out;
  std::unordered_map<std::string, size_t> index;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    Advisory a;
    a.id = q.Text(0), a.type = q.Text(1), a.severity = q.Text(2), a.title = q.Text(3), a.description = q.Text(4);
    a.issued = q.Text(5), a.updated = q.Text(6), a.source = q.Text(7), a.cvss_vector = q.Text(8);
    a.cvss_score = q.Real(9);
    index.emplace(a.id, out.size());
    out.push_back(std::move(a));
  }
  if (rc != SQLITE_DONE) return Err("{}: {}", path_, q.Error());
  if (out.empty()) return out;
  auto children = [&](const std::string& table, const std::string& cols, auto&& add) -> Status {
    Stmt c(db_, "SELECT t.advisory," + cols + " FROM " + table + " t JOIN sel ON sel.id = t.advisory");
    if (!c.ok()) return Err("{}: bad query: {}", path_, c.Error());
    while (c.Step() == SQLITE_ROW) {
      auto it = index.find(c.Text(0));
      if (it != index.end()) add(out[it->second], c);
    }
    return OkStatus();
  };
  GRAFT_TRY(children("cves", "t.cve", [](Advisory& a, Stmt& c) { a.cves.push_back(c.Text(1)); }));
  GRAFT_TRY(children("packages", "t.name,t.arch,t.version,t.ecosystem,t.filename", [](Advisory& a, Stmt& c) {
    a.packages.push_back({c.Text(1), c.Text(2), c.Text(3), c.Text(4), c.Text(5)});
  }));
  if (!lean)
    GRAFT_TRY(children("refs", "t.type,t.id,t.href,t.title", [](Advisory& a, Stmt& c) {
      a.references.push_back({c.Text(1), c.Text(2), c.Text(3), c.Text(4)});
    }));
  return out;
}

Result<std::vector<Advisory>> AdvisoryStore::List(const AdvisoryFilter& f) {
  std::string where = "WHERE 1";
  std::vector<std::string> args;
  if (!f.type.empty()) where += " AND type=?", args.push_back(f.type);
  if (!f.severities.empty()) {
    where += " AND severity IN (";
    for (size_t i = 0; i < f.severities.size(); i++) where += i ? ",?" : "?", args.push_back(f.severities[i]);
    where += ")";
  }
  if (!f.cve.empty()) where += " AND id IN (SELECT advisory FROM cves WHERE cve=?)", args.push_back(f.cve);
  if (!f.package.empty()) where += " AND id IN (SELECT advisory FROM packages WHERE name=?)", args.push_back(f.package);
  return Load(where, args, false);
}

Result<std::optional<Advisory>> AdvisoryStore::Get(const std::string& id) {
  GRAFT_ASSIGN(auto v, Load("WHERE id=?", {id}, false));
  if (v.empty()) return std::optional<Advisory>();
  return std::optional<Advisory>(std::move(v.front()));
}

Result<std::vector<Advisory>> AdvisoryStore::ForPackages(const std::vector<std::string>& names) {
  {
    Stmt q(db_, "SELECT data FROM scan_snapshot WHERE k = 0");
    if (q.ok() && q.Step() == SQLITE_ROW) {
      std::string_view blob(static_cast<const char*>(sqlite3_column_blob(q.get(), 0)),
                            static_cast<size_t>(sqlite3_column_bytes(q.get(), 0)));
      std::unordered_set<std::string_view> wanted(names.begin(), names.end());
      auto r = UnpackScanSnapshot(blob, wanted);
      if (r.ok()) return r;
      // A damaged snapshot is not fatal: the tables hold the same data.
    }
  }
  GRAFT_TRY(Exec("CREATE TEMP TABLE IF NOT EXISTS wanted(name TEXT PRIMARY KEY); DELETE FROM wanted;"));
  Stmt ins(db_, "INSERT OR IGNORE INTO wanted VALUES(?)");
  for (const auto& n : names) {
    ins.Bind(1, n);
    ins.Step();
    ins.Reset();
  }
  return Load("WHERE id IN (SELECT advisory FROM packages WHERE name IN (SELECT name FROM wanted))", {}, true);
}

Result<int> AdvisoryStore::Count() {
  Stmt q(db_, "SELECT COUNT(*) FROM advisories");
  if (q.Step() != SQLITE_ROW) return Err("{}: {}", path_, q.Error());
  return static_cast<int>(q.Real(0));
}

Result<std::optional<std::string>> AdvisoryStore::GetSetting(const std::string& key) {
  Stmt q(db_, "SELECT value FROM settings WHERE key=?");
  q.Bind(1, key);
  if (q.Step() == SQLITE_ROW) return std::optional<std::string>(q.Text(0));
  return std::optional<std::string>();
}

Status AdvisoryStore::SetSetting(const std::string& key, const std::string& value) {
  Stmt q(db_, "INSERT OR REPLACE INTO settings VALUES(?,?)");
  q.Bind(1, key).Bind(2, value);
  if (q.Step() != SQLITE_DONE) return Err("{}: {}", path_, q.Error());
  return OkStatus();
}

}  // namespace graft::advisory

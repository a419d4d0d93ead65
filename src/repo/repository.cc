#include "repo/repository.h"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bundle/bundle.h"
#include "kernel/module_info.h"
#include "trust/signature.h"

namespace graft::repo {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr char kFormat[] = "graft-repo-v1";

json EntryJson(const Entry& e) {
  json j = {{"id", e.id}, {"kind", e.kind}, {"file", e.file}, {"cves", e.cves}, {"published", e.published}};
  if (e.kind == "bundle") {
    j["target_build_id"] = e.target_build_id;
    j["target_name"] = e.target_name;
    j["supersedes"] = e.supersedes;
  } else {
    j["kernel_release"] = e.kernel_release;
  }
  return j;
}

Status CopyFile(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(fs::path(to).parent_path(), ec);
  fs::copy_file(from, to + ".tmp", fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(to + ".tmp", to, ec);
  if (ec) return Err("cannot copy {} to {}: {}", from, to, ec.message());
  return OkStatus();
}

Result<Index> Load(const std::string& dir) {
  std::ifstream in(fs::path(dir) / "index.json");
  if (!in) return Index{};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseIndex(text, dir + "/index.json");
}

Status Store(const std::string& dir, const Index& index, const trust::SecretKey& key) {
  std::string path = (fs::path(dir) / "index.json").string();
  {
    std::ofstream o(path + ".tmp");
    o << SerializeIndex(index);
    if (!o) return Err("cannot write {}", path);
  }
  // The signature of the new index first: a reader that gets the old index
  // with the new signature refuses it, never the reverse.
  GRAFT_TRY(trust::SignFile(path + ".tmp", key, path + ".sig").status());
  std::error_code ec;
  fs::rename(path + ".tmp", path, ec);
  if (ec) return Err("cannot write {}: {}", path, ec.message());
  return OkStatus();
}

}  // namespace

std::string NowIso8601() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

long long ParseIso8601(const std::string& s) {
  std::tm tm{};
  if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return -1;
  return static_cast<long long>(timegm(&tm));
}

Result<Index> ParseIndex(const std::string& text, const std::string& origin) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != kFormat)
    return Err("{} is not a graft repository index ({} expected)", origin, kFormat);
  Index index;
  if (!j.contains("channels") || !j["channels"].is_object()) return Err("{}: no channels", origin);
  for (auto& [name, entries] : j["channels"].items()) {
    if (!entries.is_array()) return Err("{}: channel {} is not a list", origin, name);
    for (const auto& e : entries) {
      Entry x;
      try {
        x.id = e.at("id").get<std::string>();
        x.kind = e.at("kind").get<std::string>();
        x.file = e.at("file").get<std::string>();
        x.published = e.at("published").get<std::string>();
        x.cves = e.value("cves", std::vector<std::string>{});
        x.target_build_id = e.value("target_build_id", "");
        x.target_name = e.value("target_name", "");
        x.supersedes = e.value("supersedes", std::vector<std::string>{});
        x.kernel_release = e.value("kernel_release", "");
      } catch (const json::exception& ex) {
        return Err("{}: channel {}: an entry lacks a field ({})", origin, name, ex.what());
      }
      if ((x.kind != "bundle" && x.kind != "kernel") || x.file.find("..") != std::string::npos || x.file.empty() ||
          x.file[0] == '/' || ParseIso8601(x.published) < 0)
        return Err("{}: channel {}: entry {} is malformed (kind, file or published)", origin, name, x.id);
      index.channels[name].push_back(std::move(x));
    }
  }
  return index;
}

std::string SerializeIndex(const Index& index) {
  json channels = json::object();
  for (const auto& [name, entries] : index.channels) {
    json list = json::array();
    for (const auto& e : entries) list.push_back(EntryJson(e));
    channels[name] = list;
  }
  return json{{"format", kFormat}, {"generated", NowIso8601()}, {"channels", channels}}.dump(2) + "\n";
}

Result<std::vector<Entry>> AddToRepository(const std::string& dir, const std::string& channel,
                                           const std::vector<std::string>& files, const trust::SecretKey& key) {
  GRAFT_ASSIGN(Index index, Load(dir));
  std::vector<Entry> added;
  for (const auto& f : files) {
    Entry e;
    e.published = NowIso8601();
    if (f.ends_with(".ko")) {
      GRAFT_ASSIGN(kernel::ModuleInfo m, kernel::ReadModuleInfo(f));
      if (!m.livepatch) return Err("{} is not a kernel live patch (no livepatch=Y)", f);
      e.kind = "kernel";
      e.id = m.name;
      e.kernel_release = m.KernelRelease();
      e.cves = m.cves;
      e.file = "kernel/" + m.name + ".ko";
    } else {
      GRAFT_ASSIGN(bundle::Bundle b, bundle::ReadFile(f));
      e.kind = "bundle";
      e.id = b.id;
      e.target_build_id = b.target_build_id;
      e.target_name = b.target_name;
      e.cves = b.cves;
      e.supersedes = b.supersedes;
      e.file = "bundles/" + b.id + ".graft";
    }
    std::string to = (fs::path(dir) / e.file).string();
    GRAFT_TRY(CopyFile(f, to));
    // Each file is signed by the publisher's key as it enters the repository.
    GRAFT_TRY(trust::SignFile(to, key).status());
    auto& list = index.channels[channel];
    std::erase_if(list, [&](const Entry& x) { return x.id == e.id; });
    list.push_back(e);
    added.push_back(e);
  }
  GRAFT_TRY(Store(dir, index, key));
  return added;
}

Result<Entry> Promote(const std::string& dir, const std::string& id, const std::string& from, const std::string& to,
                      const trust::SecretKey& key) {
  GRAFT_ASSIGN(Index index, Load(dir));
  auto& src = index.channels[from];
  auto it = std::find_if(src.begin(), src.end(), [&](const Entry& e) { return e.id == id; });
  if (it == src.end()) return Err("{} is not in channel {} of {}", id, from, dir);
  Entry e = *it;
  e.published = NowIso8601();
  auto& dst = index.channels[to];
  std::erase_if(dst, [&](const Entry& x) { return x.id == id; });
  dst.push_back(e);
  GRAFT_TRY(Store(dir, index, key));
  return e;
}

}  // namespace graft::repo

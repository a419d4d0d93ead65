#include "kernel/live_state.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "kernel/module_info.h"
#include "kernel/records.h"

namespace graft::kernel {

namespace fs = std::filesystem;

namespace {

std::string ReadLine(const fs::path& p) { return ReadAttribute(p.string()); }

constexpr unsigned long kTaintLivepatch = 1ul << 15;  // 'K'

// The .ko a patch was loaded from when graft did not load it: kpatch's and
// the distribution's install places for the running release.
std::string FindModuleFile(const std::string& release, const std::string& name) {
  for (const fs::path& c : {fs::path("/var/lib/kpatch") / release / (name + ".ko"),
                            fs::path("/lib/modules") / release / "extra" / (name + ".ko")})
    if (fs::is_regular_file(c)) return c.string();
  return InstalledModuleFile(release, name);
}

void FillDeclarations(KernelLivePatch& p, const std::string& sys, const std::string& release,
                      const std::string& records_dir) {
  if (!records_dir.empty()) {
    if (auto r = ReadRecord(records_dir, p.name)) {
      p.loaded_by_graft = true;
      p.module_path = r->module_path;
      p.loaded_at = r->loaded_at;
      p.replace = p.replace || r->replace;
      p.replaced = r->replaced;
      p.cves = r->cves;
      p.cves_from = "graft record";
      if (!p.cves.empty()) return;
    }
  }
  // graft's patches also publish their CVEs in the running kernel, so any
  // scanner (and graft after its records are gone) can read them.
  fs::path param = fs::path(sys) / "module" / p.name / "parameters" / "cves";
  if (fs::exists(param)) {
    auto ids = ParseCveList(ReadLine(param));
    if (ids.ok() && !ids->empty()) {
      p.cves = *ids;
      p.cves_from = "module parameter";
      return;
    }
  }
  std::string file = p.module_path.empty() ? FindModuleFile(release, p.name) : p.module_path;
  if (!file.empty()) {
    auto info = ReadModuleInfo(file);
    if (info.ok() && info->name == p.name && !info->cves.empty()) {
      p.module_path = file;
      p.cves = info->cves;
      p.cves_from = "module file";
      return;
    }
  }
  if (p.cves.empty()) p.cves_from.clear();
}

}  // namespace

std::string ReadAttribute(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return line;
}

std::string KernelLivePatch::State() const {
  if (!replaced_by.empty()) return "replaced";
  if (transition) return enabled ? "patching" : "unpatching";
  return enabled ? "active" : "disabled";
}

Result<KernelStatus> ReadKernelStatus(const std::string& sys, const std::string& proc, const std::string& records_dir) {
  KernelStatus st;
  st.release = ReadLine(fs::path(proc) / "sys/kernel/osrelease");
  if (st.release.empty()) return Err("cannot read {}/sys/kernel/osrelease: is /proc mounted?", proc);
  st.tainted_livepatch = std::strtoul(ReadLine(fs::path(proc) / "sys/kernel/tainted").c_str(), nullptr, 10) & kTaintLivepatch;
  fs::path root = fs::path(sys) / "kernel/livepatch";
  std::error_code ec;
  st.livepatch_supported = fs::is_directory(root, ec);
  if (!st.livepatch_supported) return st;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (!entry.is_directory()) continue;
    KernelLivePatch p;
    p.name = entry.path().filename().string();
    p.enabled = ReadLine(entry.path() / "enabled") == "1";
    p.transition = ReadLine(entry.path() / "transition") == "1";
    p.replace = ReadLine(entry.path() / "replace") == "1";
    for (const auto& obj : fs::directory_iterator(entry.path(), ec)) {
      if (!obj.is_directory()) continue;
      PatchedObject o;
      o.name = obj.path().filename().string();
      o.patched = ReadLine(obj.path() / "patched") == "1";
      for (const auto& fn : fs::directory_iterator(obj.path(), ec)) {
        if (!fn.is_directory()) continue;
        std::string dir = fn.path().filename().string();
        size_t comma = dir.rfind(',');
        PatchedFunction f{dir.substr(0, comma), 0};
        if (comma != std::string::npos) f.sympos = std::atoi(dir.c_str() + comma + 1);
        o.functions.push_back(std::move(f));
      }
      std::sort(o.functions.begin(), o.functions.end(), [](auto& a, auto& b) { return a.name < b.name; });
      p.objects.push_back(std::move(o));
    }
    std::sort(p.objects.begin(), p.objects.end(), [](auto& a, auto& b) { return a.name < b.name; });
    FillDeclarations(p, sys, st.release, records_dir);
    st.patches.push_back(std::move(p));
  }
  if (ec) return Err("cannot read {}: {}", root.string(), ec.message());
  // Patches a cumulative patch replaced are gone from sysfs; their modules
  // stay until removed (graft kernel load --keep-replaced, or a failed removal).
  if (!records_dir.empty()) {
    for (const PatchRecord& r : ReadRecords(records_dir)) {
      if (r.replaced_by.empty() || !fs::exists(fs::path(sys) / "module" / r.name)) continue;
      if (std::any_of(st.patches.begin(), st.patches.end(), [&](auto& p) { return p.name == r.name; })) continue;
      KernelLivePatch p;
      p.name = r.name;
      p.replaced_by = r.replaced_by;
      p.replace = r.replace;
      p.module_path = r.module_path;
      p.loaded_at = r.loaded_at;
      p.loaded_by_graft = !r.module_path.empty();
      p.cves = r.cves;
      p.cves_from = r.cves.empty() ? "" : "graft record";
      st.patches.push_back(std::move(p));
    }
  }
  std::sort(st.patches.begin(), st.patches.end(), [](auto& a, auto& b) { return a.name < b.name; });
  if (!records_dir.empty()) {
    for (const auto& e : fs::directory_iterator(fs::path(records_dir) / "installed" / st.release, ec)) {
      if (e.path().extension() != ".ko") continue;
      auto m = ReadModuleInfo(e.path().string());
      if (!m.ok()) continue;
      bool loaded = std::any_of(st.patches.begin(), st.patches.end(), [&](auto& p) { return p.name == m->name; });
      st.installed.push_back({m->name, e.path().string(), loaded});
    }
    std::sort(st.installed.begin(), st.installed.end(), [](auto& a, auto& b) { return a.name < b.name; });
  }
  return st;
}

}  // namespace graft::kernel

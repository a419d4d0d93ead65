#include "kernel/source_tree.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

namespace graft::kernel {

namespace fs = std::filesystem;

Result<std::string> TreeVersion(const std::string& tree) {
  std::ifstream in(fs::path(tree) / "Makefile");
  if (!in) return Err("{} has no Makefile: not a kernel source tree", tree);
  std::string line, v, p, s;
  std::regex assign(R"(^(VERSION|PATCHLEVEL|SUBLEVEL)\s*=\s*(\d+))");
  for (int n = 0; std::getline(in, line) && n < 20; n++) {
    std::smatch m;
    if (!std::regex_search(line, m, assign)) continue;
    (m[1] == "VERSION" ? v : m[1] == "PATCHLEVEL" ? p : s) = m[2];
  }
  if (v.empty() || p.empty()) return Err("{}/Makefile names no VERSION/PATCHLEVEL: not a kernel source tree", tree);
  return v + "." + p + "." + (s.empty() ? "0" : s);
}

Status MakeOverlay(const std::string& orig, const std::string& fixed, const std::vector<std::string>& files) {
  std::set<std::string> dirs, real(files.begin(), files.end());
  for (const auto& f : files)
    for (fs::path d = fs::path(f).parent_path(); !d.empty(); d = d.parent_path()) dirs.insert(d.string());
  std::error_code ec;
  fs::path base = fs::absolute(orig, ec);
  // One directory level: entries on a changed file's path are made real,
  // everything else links to the original.
  std::vector<std::string> pending{""};
  while (!pending.empty()) {
    std::string rel = pending.back();
    pending.pop_back();
    fs::path to = fs::path(fixed) / rel;
    fs::create_directories(to, ec);
    if (ec) return Err("cannot create {}: {}", to.string(), ec.message());
    for (const auto& e : fs::directory_iterator(base / rel, ec)) {
      std::string name = e.path().filename().string();
      std::string sub = rel.empty() ? name : rel + "/" + name;
      if (dirs.count(sub)) {
        pending.push_back(sub);
      } else if (real.count(sub)) {
        fs::copy_file(e.path(), to / name, fs::copy_options::overwrite_existing, ec);
      } else {
        fs::create_symlink(e.path(), to / name, ec);
      }
      if (ec) return Err("cannot make {} in {}: {}", sub, fixed, ec.message());
    }
    if (ec) return Err("cannot read {}: {}", (base / rel).string(), ec.message());
  }
  return OkStatus();
}

Status MakeObjectTree(const std::string& headers, const std::string& srctree, const std::string& objtree) {
  std::ifstream mk(fs::path(headers) / "Makefile");
  std::string first;
  std::getline(mk, first);
  if (first.rfind("include ", 0) != 0 || !fs::exists(fs::path(headers) / ".config"))
    return Err("{} is not a headers package like Debian's (a Makefile that includes the common tree's, and the "
               "kernel's .config): give --headers with the kernel's build tree", headers);
  std::error_code ec;
  fs::remove_all(objtree, ec);
  // kbuild writes objects under the object tree (arch/x86/... for a fix
  // there): arch/ is copied (a few files); the rest — configuration,
  // generated headers (6,000 files), symbol versions, the kbuild tools — is
  // only read, and linked.
  fs::create_directories(objtree, ec);
  for (const auto& e : fs::directory_iterator(headers, ec)) {
    std::string name = e.path().filename().string();
    fs::path to = fs::path(objtree) / name;
    if (name == "Makefile") continue;
    if (name == "arch" && !e.is_symlink())
      fs::copy(e.path(), to, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    else
      fs::create_symlink(fs::canonical(e.path(), ec), to, ec);
    if (ec) break;
  }
  if (ec) return Err("cannot copy {} to {}: {}", headers, objtree, ec.message());
  std::ofstream(fs::path(objtree) / "Makefile", std::ios::trunc)
      << "include " << fs::absolute(srctree).string() << "/Makefile\n";
  return OkStatus();
}

std::string KbuildDirectory(const std::string& tree, const std::string& file) {
  for (fs::path d = fs::path(file).parent_path(); !d.empty(); d = d.parent_path())
    if (fs::exists(fs::path(tree) / d / "Makefile") || fs::exists(fs::path(tree) / d / "Kbuild")) return d.string();
  return fs::path(file).parent_path().string();
}

Result<std::string> ObjectOwner(const std::string& object) {
  fs::path o(object);
  fs::path cmd = o.parent_path() / ("." + o.filename().string() + ".cmd");
  std::ifstream in(cmd);
  if (!in) return Err("kbuild left no {}", cmd.string());
  std::string first;
  std::getline(in, first);
  if (first.find(" -DMODULE ") == std::string::npos) return std::string();
  size_t at = first.find("-DKBUILD_MODNAME='\"");
  if (at == std::string::npos) return Err("{}: a module object without KBUILD_MODNAME", cmd.string());
  at += 19;
  return first.substr(at, first.find('"', at) - at);
}

}  // namespace graft::kernel

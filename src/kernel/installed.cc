#include "kernel/installed.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "base/subprocess.h"
#include "kernel/module_info.h"
#include "trust/signature.h"

namespace graft::kernel {

namespace fs = std::filesystem;

std::string InstalledDir(const std::string& records_dir, const std::string& release) {
  return records_dir + "/installed/" + release;
}

Result<InstalledPatch> InstallPatch(const std::string& module, const std::string& records_dir,
                                    const LoadOptions& opt) {
  GRAFT_ASSIGN(trust::Verdict verdict,
               trust::VerifyFile(module, opt.trust_store.empty() ? trust::DefaultTrustStore() : opt.trust_store,
                                 opt.allow_unsigned));
  GRAFT_ASSIGN(ModuleInfo m, ReadModuleInfo(module));
  if (!m.livepatch) return Err("{} is not a kernel live patch (no livepatch=Y in .modinfo)", module);
  std::string dir = InstalledDir(records_dir, m.KernelRelease());
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Err("cannot create {}: {}", dir, ec.message());
  std::string path = dir + "/" + m.name + ".ko", tmp = path + ".tmp";
  // The signature first: a module never sits installed without the .sig it came with.
  fs::remove(path + ".sig", ec);
  if (verdict.signed_) {
    fs::copy_file(module + ".sig", tmp, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(tmp, path + ".sig", ec);
    if (ec) return Err("cannot install {}.sig as {}.sig: {}", module, path, ec.message());
  }
  fs::copy_file(module, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(tmp, path, ec);
  if (ec) return Err("cannot install {} as {}: {}", module, path, ec.message());
  return InstalledPatch{m.name, m.KernelRelease(), path, m.cves};
}

Status UninstallPatch(const std::string& name, const std::string& release, const std::string& records_dir) {
  std::string path = InstalledDir(records_dir, release) + "/" + name + ".ko";
  std::error_code ec;
  if (!fs::remove(path, ec))
    return Err("no live patch {} is installed for kernel {} (graft kernel status lists them)", name, release);
  fs::remove(path + ".sig", ec);
  return OkStatus();
}

std::vector<InstalledPatch> ListInstalled(const std::string& records_dir, const std::string& release) {
  std::vector<InstalledPatch> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(InstalledDir(records_dir, release), ec)) {
    if (e.path().extension() != ".ko") continue;
    auto m = ReadModuleInfo(e.path().string());
    if (!m.ok()) continue;
    out.push_back({m->name, release, e.path().string(), m->cves});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

LoadInstalledResult LoadInstalled(const LoadOptions& opt, const std::string& release) {
  LoadInstalledResult r;
  for (const auto& p : ListInstalled(opt.records_dir, release)) {
    if (fs::exists(fs::path(opt.sys) / "kernel/livepatch" / p.name)) {
      r.already.push_back(p.name);
      continue;
    }
    auto loaded = LoadLivePatch(p.path, opt);
    if (loaded.ok())
      r.loaded.push_back(p.name);
    else
      r.failed.emplace_back(p.name, loaded.error().message());
  }
  return r;
}

Result<std::string> InstallBootUnit(const std::string& graft_path) {
  if (!fs::is_directory("/run/systemd/system"))
    return std::string("systemd is not running here: run `graft kernel load-installed` at boot yourself");
  const std::string unit = "/etc/systemd/system/graft-kernel-patches.service";
  std::ofstream f(unit, std::ios::trunc);
  f << "# Written by graft kernel install.\n"
       "[Unit]\n"
       "Description=Load the kernel live patches graft installed for the running kernel\n"
       "After=local-fs.target\n\n"
       "[Service]\n"
       "Type=oneshot\n"
       "RemainAfterExit=yes\n"
       "ExecStart=" << graft_path << " kernel load-installed\n\n"
       "[Install]\n"
       "WantedBy=multi-user.target\n";
  if (!f.flush()) return Err("cannot write {}", unit);
  f.close();
  Status enabled = RunCommand("systemctl daemon-reload && systemctl enable graft-kernel-patches.service", "/",
                              "/dev/null");
  if (!enabled.ok()) return Err("wrote {} but `systemctl enable` failed", unit);
  return "enabled " + unit + " (loads installed patches at boot)";
}

}  // namespace graft::kernel

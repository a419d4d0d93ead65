#include "kernel/loader.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "kernel/kernel_log.h"
#include "kernel/live_state.h"
#include "kernel/module_signing.h"
#include "kernel/records.h"
#include "trust/signature.h"

namespace graft::kernel {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string ReadLine(const fs::path& p) { return ReadAttribute(p.string()); }

Status WriteAttr(const fs::path& p, const char* value) {
  int fd = open(p.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Err("cannot open {}: {}", p.string(), std::strerror(errno));
  ssize_t n = write(fd, value, std::strlen(value));
  int e = errno;
  close(fd);
  if (n < 0) return Err("writing {} to {}: {}", value, p.string(), std::strerror(e));
  return OkStatus();
}

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Waits until the patch's transition flag drops (or the patch's directory
// goes away, which reads as "" too); false on timeout.
bool WaitTransition(const fs::path& dir, const LoadOptions& opt, const std::string& name, Clock::time_point t0,
                    double limit) {
  double next_report = 1;
  while (ReadLine(dir / "transition") == "1") {
    double t = Since(t0);
    if (t >= limit) return false;
    if (opt.progress && t >= next_report) opt.progress(name, t), next_report += 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::string LoadErrorHint(int e) {
  switch (e) {
    case EKEYREJECTED:
    case EKEYREVOKED:
    case EKEYEXPIRED:
      return "the kernel rejected the module's signature: sign it with a key the kernel trusts";
    case EPERM:
      return "the kernel does not allow loading modules (lockdown, module.sig_enforce without a trusted "
             "signature, or kernel.modules_disabled)";
    case ENOEXEC:
      return "the kernel says this is not a valid module for it";
    case EEXIST:
      return "a module of that name is already loaded";
    case ENOENT:
    case EINVAL:
      return "a function or object it patches was not found or was refused: the kernel log (dmesg) names it";
    case EBUSY:
      return "another live patch is in transition: wait until `graft kernel status` shows it settled";
    default:
      return "the kernel log (dmesg) says why";
  }
}

// delete_module fails with EBUSY/EAGAIN while the livepatch core still holds
// the module after the disable; it lets go shortly after.
Status RemoveModule(const std::string& name) {
  auto t0 = Clock::now();
  for (;;) {
    if (syscall(SYS_delete_module, name.c_str(), O_NONBLOCK) == 0) return OkStatus();
    int e = errno;
    if (e == ENOENT) return OkStatus();
    if ((e != EBUSY && e != EAGAIN) || Since(t0) > 10)
      return Err("cannot remove module {}: {}", name, std::strerror(e));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// The kernel's own words about a refused module: livepatch messages and
// those naming the module, the last few.
std::string KernelLogReason(const std::vector<std::string>& messages, const std::string& name) {
  std::vector<std::string> keep;
  for (const std::string& m : messages)
    // The module loader's signature messages do not name the module.
    if (m.find("livepatch") != std::string::npos || m.find(name) != std::string::npos ||
        m.starts_with("Loading of ") || m.starts_with("Lockdown:"))
      keep.push_back(m);
  if (keep.size() > 4) keep.erase(keep.begin(), keep.end() - 4);
  std::string out;
  for (const auto& m : keep) out += (out.empty() ? "" : "; ") + m;
  return out;
}

// A cumulative patch's transition ends with the kernel disabling every
// earlier patch and freeing it in the background (its sysfs directory goes
// away shortly after). Which of `before` went, waiting up to a few seconds.
std::vector<std::string> ReplacedPatches(const std::vector<std::string>& before, const fs::path& root, bool wait) {
  auto t0 = Clock::now();
  for (;;) {
    std::vector<std::string> gone, left;
    for (const auto& n : before) (fs::exists(root / n) ? left : gone).push_back(n);
    if (left.empty() || !wait || Since(t0) > 10) return gone;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Records the replacement and removes the replaced modules (unless kept).
void SettleReplaced(LoadResult& r, const LoadOptions& opt, PatchRecord& rec) {
  for (const auto& old : r.replaced) {
    PatchRecord o = opt.records_dir.empty() ? PatchRecord{} : ReadRecord(opt.records_dir, old).value_or(PatchRecord{});
    o.name = old;
    o.replaced_by = r.module.name;
    if (!opt.keep_replaced) {
      Status s = RemoveModule(old);
      if (s.ok()) {
        if (!opt.records_dir.empty()) RemoveRecord(opt.records_dir, old);
        continue;
      }
      r.notes.push_back(s.error().message() + " (the patch is disabled; `graft kernel unload " + old +
                        "` removes it later)");
    }
    r.left_loaded.push_back(old);
    if (!opt.records_dir.empty()) (void)WriteRecord(opt.records_dir, o);
  }
  rec.replace = true;
  rec.replaced = r.replaced;
  if (!opt.records_dir.empty()) (void)WriteRecord(opt.records_dir, rec);
}

}  // namespace

std::string WhyNotLoadable(const ModuleInfo& m, const std::string& release, const std::string& sys) {
  if (!m.livepatch)
    return fmt::format("{} is not a kernel live patch: its .modinfo has no livepatch=Y tag (load ordinary "
                       "modules with modprobe)", m.path);
  if (m.KernelRelease() != release)
    return fmt::format("{} was built for kernel {}, the running kernel is {}: build it against "
                       "linux-headers-{}", m.path, m.KernelRelease(), release, release);
  if (!fs::is_directory(fs::path(sys) / "kernel/livepatch"))
    return fmt::format("the running kernel {} has no live patch support ({}/kernel/livepatch is missing; "
                       "it needs CONFIG_LIVEPATCH)", release, sys);
  if (fs::exists(fs::path(sys) / "kernel/livepatch" / m.name))
    return fmt::format("live patch {} is already loaded (graft kernel status)", m.name);
  if (fs::exists(fs::path(sys) / "module" / m.name))
    return fmt::format("a module named {} is already loaded and is not a live patch", m.name);
  return "";
}

Result<LoadResult> LoadLivePatch(const std::string& path, const LoadOptions& opt) {
  GRAFT_TRY(trust::VerifyFile(path, opt.trust_store.empty() ? trust::DefaultTrustStore() : opt.trust_store,
                              opt.allow_unsigned));
  GRAFT_ASSIGN(ModuleInfo m, ReadModuleInfo(path));
  GRAFT_ASSIGN(KernelStatus st, ReadKernelStatus(opt.sys, opt.proc, ""));
  if (std::string why = WhyNotLoadable(m, st.release, opt.sys); !why.empty()) return Error(why);
  for (const auto& p : st.patches)
    if (p.transition)
      return Err("live patch {} is still {}: the kernel takes one transition at a time; wait for it or "
                 "unload it", p.name, p.State());

  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Err("cannot open {}: {}", path, std::strerror(errno));
  // The record goes first: if graft dies after the kernel took the module,
  // status still finds where it came from.
  PatchRecord rec;
  rec.name = m.name;
  rec.module_path = fs::absolute(path).string();
  rec.vermagic = m.vermagic;
  rec.cves = m.cves;
  rec.loaded_at = UtcNow();
  rec.replace = m.replace;
  if (!opt.records_dir.empty()) {
    if (Status s = WriteRecord(opt.records_dir, rec); !s.ok()) {
      close(fd);
      return s.error();
    }
  }
  std::vector<std::string> before;
  for (const auto& p : st.patches) before.push_back(p.name);
  KernelLogTail log;
  auto t0 = Clock::now();
  long rc = syscall(SYS_finit_module, fd, "", 0);
  int e = errno;
  close(fd);
  if (rc != 0) {
    if (!opt.records_dir.empty()) RemoveRecord(opt.records_dir, m.name);
    std::vector<std::string> messages = log.NewMessages();
    std::string said = KernelLogReason(messages, m.name);
    if (std::string why = ExplainSignatureRefusal(path, e, messages, ReadSignatureEnforcement(opt.sys)); !why.empty())
      return Err("the kernel refused {}: {}{}", path, why, said.empty() ? "" : ". Kernel log: " + said);
    std::string hint = said.find("pre-patch callback failed") != std::string::npos
                           ? "its pre_patch callback refused the patch and returned this error; nothing was "
                             "patched and the module is not loaded"
                           : LoadErrorHint(e);
    return Err("the kernel refused {}: {} ({}){}", path, std::strerror(e), hint,
               said.empty() ? "" : ". Kernel log: " + said);
  }
  fs::path dir = fs::path(opt.sys) / "kernel/livepatch" / m.name;
  if (!fs::exists(dir)) {
    // The module loaded but registered no patch (its init did not call
    // klp_enable_patch): take it out again rather than leave a stray module.
    (void)RemoveModule(m.name);
    if (!opt.records_dir.empty()) RemoveRecord(opt.records_dir, m.name);
    return Err("{} loaded but registered no live patch in {}: removed it again", path, dir.parent_path().string());
  }
  if (!WaitTransition(dir, opt, m.name, t0, opt.timeout_seconds)) {
    // Some task keeps sleeping inside a function the patch replaces. Reverse
    // the transition (tasks already switched go back) and remove the module.
    Status s = WriteAttr(dir / "enabled", "0");
    bool back = s.ok() && WaitTransition(dir, opt, m.name, Clock::now(), opt.timeout_seconds);
    if (back) {
      (void)RemoveModule(m.name);
      if (!opt.records_dir.empty()) RemoveRecord(opt.records_dir, m.name);
      return Err("live patch {}: not every task could be switched within {:.0f} s (a task sleeps inside a "
                 "patched function); the transition was reversed and the module removed. Retry when the "
                 "system is less busy, or with a longer --timeout", m.name, opt.timeout_seconds);
    }
    return Err("live patch {}: the transition did not finish within {:.0f} s and reversing it did not finish "
               "either; the kernel keeps working on it (graft kernel status shows its state)",
               m.name, opt.timeout_seconds);
  }
  LoadResult r;
  r.transition_seconds = Since(t0);
  r.replaced = ReplacedPatches(before, dir.parent_path(), m.replace);
  r.module = std::move(m);
  if (!r.replaced.empty()) SettleReplaced(r, opt, rec);
  return r;
}

Result<UnloadResult> UnloadLivePatch(const std::string& name, const LoadOptions& opt) {
  fs::path dir = fs::path(opt.sys) / "kernel/livepatch" / name;
  if (!fs::exists(dir)) {
    // A patch a cumulative one replaced: disabled by the kernel, only its
    // module is left to remove.
    auto rec = opt.records_dir.empty() ? std::nullopt : ReadRecord(opt.records_dir, name);
    if (rec && !rec->replaced_by.empty() && fs::exists(fs::path(opt.sys) / "module" / name)) {
      GRAFT_TRY(RemoveModule(name));
      RemoveRecord(opt.records_dir, name);
      return UnloadResult{name, 0, rec->replaced_by};
    }
    if (!opt.records_dir.empty()) RemoveRecord(opt.records_dir, name);  // stale record
    return Err("no kernel live patch named {} is loaded (graft kernel status lists them)", name);
  }
  auto t0 = Clock::now();
  if (ReadLine(dir / "enabled") == "1") {
    GRAFT_TRY(WriteAttr(dir / "enabled", "0"));
    if (!WaitTransition(dir, opt, name, t0, opt.timeout_seconds))
      return Err("live patch {}: disabling did not finish within {:.0f} s (a task sleeps inside a patched "
                 "function); the kernel keeps working on it, run `graft kernel unload {}` again later",
                 name, opt.timeout_seconds, name);
  } else if (ReadLine(dir / "transition") == "1") {
    if (!WaitTransition(dir, opt, name, t0, opt.timeout_seconds))
      return Err("live patch {} is still being disabled after {:.0f} s", name, opt.timeout_seconds);
  }
  UnloadResult r{name, Since(t0), ""};
  GRAFT_TRY(RemoveModule(name));
  if (!opt.records_dir.empty()) RemoveRecord(opt.records_dir, name);
  return r;
}

}  // namespace graft::kernel

#include "kernel/module_signing.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/subprocess.h"
#include "kernel/live_state.h"
#include "kernel/module_info.h"

namespace graft::kernel {

namespace fs = std::filesystem;

namespace {

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool Contains(const std::vector<std::string>& lines, std::string_view what) {
  for (const auto& l : lines)
    if (l.find(what) != std::string::npos) return true;
  return false;
}

constexpr std::string_view kHowToTrust =
    "sign it with a key the kernel trusts: a key enrolled as a Machine Owner Key (`mokutil --import CERT.der`, "
    "reboot and confirm the enrolment in MokManager; Secure Boot with shim), or the key the kernel was built "
    "with, then `graft kernel sign-module MODULE.ko --key KEY.pem --cert CERT.der` and `graft sign MODULE.ko` "
    "again (docs/signing.md)";

}  // namespace

Result<std::string> FindSignFile(const std::string& release, const std::string& given) {
  if (!given.empty()) {
    if (access(given.c_str(), X_OK) != 0) return Err("sign-file {} is not an executable file", given);
    return given;
  }
  std::string series = release.substr(0, release.find('.', release.find('.') + 1));
  std::vector<fs::path> candidates = {fs::path("/usr/src/linux-headers-" + release) / "scripts/sign-file",
                                      fs::path("/lib/modules") / release / "build/scripts/sign-file",
                                      fs::path("/usr/lib/linux-kbuild-" + series) / "scripts/sign-file"};
  // The tool does not depend on the kernel version: any kbuild's will do.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib", ec))
    if (e.path().filename().string().starts_with("linux-kbuild-")) candidates.push_back(e.path() / "scripts/sign-file");
  for (const auto& c : candidates)
    if (access(c.c_str(), X_OK) == 0) return c.string();
  return Err("the kernel's sign-file was not found (looked in /usr/src/linux-headers-{}/scripts and "
             "/usr/lib/linux-kbuild-*/scripts): install linux-headers-{} (Debian: linux-kbuild-{}), or give "
             "--sign-file", release, release, series);
}

Result<ModuleSignature> SignModuleForKernel(const std::string& module, const KernelSignOptions& opt) {
  if (opt.key.empty()) return Err("signing {} for the kernel needs the private key (--key KEY.pem)", module);
  GRAFT_ASSIGN(ModuleInfo info, ReadModuleInfo(module));
  GRAFT_ASSIGN(std::string tool, FindSignFile(info.KernelRelease(), opt.sign_file));
  // sign-file appends; a second signature after a first would be covered by
  // nothing the kernel reads, so an old one is cut off first.
  GRAFT_ASSIGN(ModuleSignature old, ReadModuleSignature(module));
  if (old.present) {
    std::error_code ec;
    fs::resize_file(module, old.module_size, ec);
    if (ec) return Err("cannot remove the old kernel signature of {}: {}", module, ec.message());
  }
  std::string cert = opt.cert.empty() ? opt.key : opt.cert;
  auto [rc, out] = RunCaptured(fmt::format("{} {} {} {} {}", Quote(tool), Quote(opt.hash), Quote(opt.key),
                                           Quote(cert), Quote(module)));
  if (rc != 0)
    return Err("{} could not sign {} (exit {}): {}{}", tool, module, rc, out,
               old.present ? " (its old kernel signature was removed)" : "");
  GRAFT_ASSIGN(ModuleSignature sig, ReadModuleSignature(module));
  if (!sig.present) return Err("{} exited 0 but {} carries no kernel signature", tool, module);
  return sig;
}

std::string SignatureEnforcement::Describe() const {
  std::string out;
  if (sig_enforce) out = "module.sig_enforce=1";
  if (lockdown == "integrity" || lockdown == "confidentiality")
    out += (out.empty() ? "" : ", ") + std::string("lockdown=") + lockdown;
  return out;
}

SignatureEnforcement ReadSignatureEnforcement(const std::string& sys) {
  SignatureEnforcement e;
  e.sig_enforce = ReadAttribute(sys + "/module/module/parameters/sig_enforce") == "Y";
  // "none [integrity] confidentiality": the bracketed word is in force.
  std::string l = ReadAttribute(sys + "/kernel/security/lockdown");
  if (size_t a = l.find('['), b = l.find(']'); a != std::string::npos && b > a) e.lockdown = l.substr(a + 1, b - a - 1);
  return e;
}

std::string ExplainSignatureRefusal(const std::string& path, int err, const std::vector<std::string>& kernel_log,
                                    const SignatureEnforcement& enforcement) {
  bool signature_errno = err == EKEYREJECTED || err == ENOKEY || err == EBADMSG || err == ENOPKG ||
                         err == EKEYREVOKED || err == EKEYEXPIRED;
  bool lockdown_said = Contains(kernel_log, "unsigned module loading is restricted");
  // EPERM is lockdown's answer (without sig_enforce) and also a missing privilege.
  bool locked = enforcement.lockdown == "integrity" || enforcement.lockdown == "confidentiality";
  if (!signature_errno && !(err == EPERM && (lockdown_said || locked))) return "";
  std::string where = enforcement.Describe();
  where = where.empty() ? "this kernel" : "this kernel (" + where + ")";

  auto sig = ReadModuleSignature(path);
  if (!sig.ok())
    return fmt::format("its kernel module signature is malformed ({}); {}", sig.error().message(), kHowToTrust);
  if (!sig->present)
    return fmt::format("it carries no kernel module signature and {} loads only signed modules; {}", where,
                       kHowToTrust);
  std::string who = fmt::format("'{}' (key id {}, {})", sig->signer, sig->key_id, sig->hash_algo);
  if (Contains(kernel_log, "unavailable key") || err == ENOKEY || err == EPERM)
    return fmt::format("it is signed for the kernel by {}, a key {} does not trust (none of its keyrings holds "
                       "it: .builtin_trusted_keys, .secondary_trusted_keys, .machine, .platform); {}",
                       who, where, kHowToTrust);
  constexpr std::string_view kSignAgain =
      "sign it again for the kernel after its last change (`graft kernel sign-module`), then `graft sign`";
  if (err == EBADMSG || err == ENOPKG)
    return fmt::format("the kernel cannot read its module signature by {}; {}", who, kSignAgain);
  // A signature that does not match the module is refused without a log
  // line of the module loader's own; an untrusted key under enforcement has one.
  return fmt::format("the kernel rejected its module signature by {}: the module changed after it was signed "
                     "for the kernel, or the key is not one the kernel trusts; {}, with a key the kernel "
                     "trusts (docs/signing.md)", who, kSignAgain);
}

}  // namespace graft::kernel

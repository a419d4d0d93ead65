// Kernels that enforce module signatures: signing a live patch module with
// the kernel's own scripts/sign-file (the scheme the kernel verifies), telling
// whether the running kernel enforces signatures, and turning the kernel's
// refusal of a module's signature into a reason and a remedy.
//
// Layering: the kernel signature is appended to the .ko first; graft's
// Ed25519 FILE.sig is made afterwards over the final bytes. graft checks its
// own before the kernel sees the module; the kernel checks its own at load.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "kernel/module_signature.h"

namespace graft::kernel {

struct KernelSignOptions {
  std::string key;   // private key: PEM file, or a PKCS#11 URI (sign-file takes both)
  std::string cert;  // X.509 certificate, PEM or DER; default: `key` (the kernel's signing_key.pem holds both)
  std::string hash = "sha256";
  std::string sign_file;  // the tool; default: found next to the module's kernel headers
};

// The kernel's sign-file for `release`: `given` if set, else the headers' or
// Debian's linux-kbuild copy; the error says which package installs it.
Result<std::string> FindSignFile(const std::string& release, const std::string& given = "");

// Appends a kernel module signature to `module` in place (a signature it
// already carries is replaced) and returns it as read back.
Result<ModuleSignature> SignModuleForKernel(const std::string& module, const KernelSignOptions& opt);

// Whether the running kernel refuses modules without a trusted signature.
struct SignatureEnforcement {
  bool sig_enforce = false;  // /sys/module/module/parameters/sig_enforce = Y
  std::string lockdown;      // "none", "integrity", "confidentiality", or "" when unknown
  bool Enforced() const { return sig_enforce || lockdown == "integrity" || lockdown == "confidentiality"; }
  std::string Describe() const;  // "module.sig_enforce=1", "lockdown=integrity", ...
};

SignatureEnforcement ReadSignatureEnforcement(const std::string& sys = "/sys");

// Why the kernel refused `path` (finit_module failed with `err`, the kernel
// logged `kernel_log`) when the reason is the module's kernel signature, with
// what to do, said of the module ("it carries no ...") to follow "the kernel
// refused PATH: "; "" when the refusal is not about the signature.
std::string ExplainSignatureRefusal(const std::string& path, int err, const std::vector<std::string>& kernel_log,
                                    const SignatureEnforcement& enforcement);

}  // namespace graft::kernel

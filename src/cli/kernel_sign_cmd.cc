// `graft kernel sign-module` and the --module-sign-* options of `graft kernel
// build`: the kernel's own module signature (scripts/sign-file), for hosts
// whose kernel loads only modules signed by a key it trusts. graft's Ed25519
// signature (`graft sign`) comes after it and covers the kernel's.
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/kernel_sign.h"
#include "cli/output.h"
#include "kernel/module_signing.h"

namespace graft::cli {

std::shared_ptr<kernel::KernelSignOptions> AddKernelSignOptions(CLI::App* cmd, const std::string& prefix) {
  auto opt = std::make_shared<kernel::KernelSignOptions>();
  cmd->add_option("--" + prefix + "key", opt->key,
                  "Private key for the kernel's module signature (PEM, or a PKCS#11 URI)");
  cmd->add_option("--" + prefix + "cert", opt->cert,
                  "Its X.509 certificate, PEM or DER (default: the key file, like the kernel's signing_key.pem)");
  cmd->add_option("--" + prefix + "hash", opt->hash, "Digest for the kernel's module signature (default sha256)");
  cmd->add_option("--sign-file", opt->sign_file,
                  "The kernel's sign-file (default: linux-headers-RELEASE's or linux-kbuild's scripts/sign-file)");
  return opt;
}

void PrintKernelSignature(const std::string& module, const kernel::ModuleSignature& s) {
  fmt::print("signed {} for the kernel: signer '{}', key id {}, {} ({} bytes appended)\n", module, s.signer,
             s.key_id, s.hash_algo, s.signature_size);
  if (std::filesystem::exists(module + ".sig"))
    fmt::print("note: {}.sig was made before and no longer matches: run `graft sign {}` again\n", module, module);
  else
    fmt::print("next: `graft sign {} --key KEY.key` (graft's signature covers the kernel's)\n", module);
}

nlohmann::json KernelSignatureJson(const kernel::ModuleSignature& s) {
  if (!s.present) return nullptr;
  return {{"signer", s.signer}, {"key_id", s.key_id}, {"hash_algo", s.hash_algo},
          {"signature_bytes", s.signature_size}, {"module_bytes", s.module_size}};
}

void RegisterKernelSignCommand(CLI::App* group) {
  auto* cmd = group->add_subcommand("sign-module", "Append the kernel's module signature to a live patch module");
  auto path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  cmd->add_option("module", *path, "The live patch module (.ko), signed in place")->required()->check(CLI::ExistingFile);
  auto opt = AddKernelSignOptions(cmd, "");
  cmd->get_option("--key")->required();
  cmd->add_flag("--json", *as_json, "Machine-readable output");
  cmd->footer(
      "For kernels that load only signed modules (module.sig_enforce=1, Secure Boot lockdown):\n"
      "runs the kernel's scripts/sign-file, which appends a PKCS#7 signature and the\n"
      "\"~Module signature appended~\" trailer; a kernel signature already there is replaced.\n"
      "The kernel must trust the key: enrolled as a Machine Owner Key (mokutil --import\n"
      "CERT.der, reboot, confirm in MokManager) or its build key. Sign with graft afterwards:\n"
      "graft's signature covers the final bytes (docs/signing.md).\n"
      "Example:\n"
      "  graft kernel sign-module livepatch_fix.ko --key MOK.priv --cert MOK.der\n"
      "  graft sign livepatch_fix.ko --key acme.key");
  cmd->callback([=] {
    auto s = Check(kernel::SignModuleForKernel(*path, *opt));
    if (*as_json) {
      fmt::print("{}\n", nlohmann::json{{"module", *path}, {"kernel_signature", KernelSignatureJson(s)}}.dump(2));
      return;
    }
    PrintKernelSignature(*path, s);
  });
}

}  // namespace graft::cli

// `graft keygen`, `graft sign`, `graft verify`: the signing keys of whoever
// publishes patches, detached signatures of bundles and kernel modules, and
// the check every host runs before loading one (src/trust).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "trust/keys.h"
#include "trust/signature.h"

namespace graft::cli {

using json = nlohmann::json;

bool UnsignedAllowed(bool flag) { return flag || trust::UnsignedAllowedByEnvironment(); }

void RequireSignature(const std::string& file, bool allow_unsigned_flag) {
  Check(trust::VerifyFile(file, trust::DefaultTrustStore(), UnsignedAllowed(allow_unsigned_flag)));
}

void RegisterTrustCommands(CLI::App& app) {
  {
    auto* cmd = app.add_subcommand("keygen", "Create an Ed25519 key pair for signing live patches");
    auto name = std::make_shared<std::string>();
    auto dir = std::make_shared<std::string>(".");
    cmd->add_option("name", *name, "Key name (letters, digits, - _ .), e.g. the publisher's")->required();
    cmd->add_option("--dir", *dir, "Where to write NAME.key (secret, 0600) and NAME.pub (default: .)");
    cmd->footer(
        "Keep NAME.key where patches are published; copy NAME.pub into the trust store of every\n"
        "host that should accept them ($GRAFT_KEYS_DIR, default /etc/graft/keys).\n"
        "Example:\n  graft keygen acme-patches --dir ~/.graft\n"
        "  install -m 644 ~/.graft/acme-patches.pub /etc/graft/keys/");
    cmd->callback([=] {
      trust::PublicKey k = Check(trust::GenerateKey(*name, *dir));
      fmt::print("created key {} (id {}): secret {}/{}.key, public {}\n", k.name, k.id, *dir, k.name, k.path);
    });
  }
  {
    auto* cmd = app.add_subcommand("sign", "Sign live patch bundles or kernel patch modules (writes FILE.sig)");
    auto files = std::make_shared<std::vector<std::string>>();
    auto key = std::make_shared<std::string>();
    cmd->add_option("files", *files, "Bundles (.graft) or kernel live patch modules (.ko)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--key", *key, "The secret key (NAME.key from graft keygen)")->required()->check(CLI::ExistingFile);
    cmd->footer(
        "The signature covers the whole file (BLAKE2b-512, Ed25519) and is written next to it as\n"
        "FILE.sig; graft apply and graft kernel load look for it there.\n"
        "A kernel that enforces module signatures (lockdown, module.sig_enforce) also needs the\n"
        "module signed with a key it trusts: `graft kernel sign-module` (the kernel's sign-file,\n"
        "an enrolled MOK) first, then graft sign, whose signature covers the kernel's; graft's is\n"
        "checked by graft before the kernel sees the module (docs/signing.md).\n"
        "Example:\n  graft sign fix.graft livepatch_cve.ko --key ~/.graft/acme-patches.key");
    cmd->callback([=] {
      trust::SecretKey k = Check(trust::ReadSecretKey(*key));
      for (const auto& f : *files) fmt::print("{}\n", Check(trust::SignFile(f, k)));
    });
  }
  {
    auto* cmd = app.add_subcommand("verify", "Check a bundle's or module's signature against the trust store");
    auto files = std::make_shared<std::vector<std::string>>();
    auto as_json = std::make_shared<bool>(false);
    cmd->add_option("files", *files, "Signed files")->required()->check(CLI::ExistingFile);
    cmd->add_flag("--json", *as_json, "Machine-readable output");
    cmd->footer("The trust store is $GRAFT_KEYS_DIR, default /etc/graft/keys (one NAME.pub per key).\n"
                "Exit status 1 when any file is unsigned, changed after signing, or signed by a key\n"
                "the store does not hold.");
    cmd->callback([=] {
      std::string store = trust::DefaultTrustStore();
      json out = json::array();
      bool bad = false;
      for (const auto& f : *files) {
        auto v = trust::VerifyFile(f, store, false);
        if (*as_json) {
          out.push_back(v.ok() ? json{{"file", f}, {"ok", true}, {"key", v->key_name}, {"key_id", v->key_id}}
                               : json{{"file", f}, {"ok", false}, {"error", v.error().message()}});
        } else if (v.ok()) {
          fmt::print("{}: signed by {} (id {}), trusted ({})\n", f, v->key_name, v->key_id, v->key_path);
        } else {
          fmt::print(stderr, "graft: {}\n", v.error().message());
        }
        bad |= !v.ok();
      }
      if (*as_json) fmt::print("{}\n", out.dump(2));
      if (bad) throw CLI::RuntimeError(1);
    });
  }
}

}  // namespace graft::cli

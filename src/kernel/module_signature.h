// The kernel's own module signature: what scripts/sign-file appends to a
// .ko and what the kernel checks at load when it enforces signatures
// (module.sig_enforce=1, CONFIG_MODULE_SIG_FORCE, lockdown). The file is
//   module bytes | PKCS#7 (CMS) detached signature | struct module_signature
//   | "~Module signature appended~\n"
// and the 12-byte struct says how long the signature is (big-endian). graft
// reads it to tell whether a module is signed and by whom (what modinfo
// prints as signer, sig_key, sig_hashalgo), and signs with the kernel's
// sign-file. graft's own Ed25519 signature (src/trust) is made afterwards
// and covers these final bytes, trailer included.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace graft::kernel {

inline constexpr std::string_view kModuleSignatureMagic = "~Module signature appended~\n";

// struct module_signature (include/linux/module_signature.h).
enum class SignatureIdType : uint8_t { kPgp = 0, kX509 = 1, kPkcs7 = 2 };

// Where the kernel signature sits in a module file.
struct SignatureTrailer {
  size_t module_size = 0;     // bytes the signature covers: the module itself
  size_t signature_size = 0;  // the PKCS#7 blob, at module_size
  SignatureIdType id_type = SignatureIdType::kPkcs7;
};

// The trailer of `file` (a whole module's bytes): nullopt when the file does
// not end with the magic (unsigned); an error when it does but the struct is
// not one the kernel accepts (it would refuse the module with EBADMSG).
Result<std::optional<SignatureTrailer>> ParseSignatureTrailer(std::string_view file);

struct ModuleSignature {
  bool present = false;
  std::string signer;     // the signing certificate's issuer (its CN), as modinfo's "signer"
  std::string key_id;     // issuer serial number, or subject key id with sign-file -k (AB:CD:...)
  std::string hash_algo;  // sha256, ...
  size_t module_size = 0, signature_size = 0;
};

// The kernel signature a module's bytes carry, read from its PKCS#7 signer
// info; `present` is false for an unsigned module.
Result<ModuleSignature> ParseModuleSignature(std::string_view file);

// The same for the module file `path`; errors name it.
Result<ModuleSignature> ReadModuleSignature(const std::string& path);

}  // namespace graft::kernel

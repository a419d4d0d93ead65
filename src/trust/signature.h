// Detached signatures of what graft loads into running software: patch
// bundles and kernel live patch modules. FILE.sig next to FILE holds the
// signer's key name and id and an Ed25519 signature over a domain-separated
// BLAKE2b-512 hash of the file, so a signature made for one file never
// verifies another, and nothing of the file is trusted before it verifies.
//
// The policy, applied before anything is written into a process or the
// kernel: a file whose signature verifies with a key of the trust store is
// accepted; a file with a signature that does not verify (changed file, key
// not trusted, damaged .sig) is refused, always; an unsigned file is refused
// unless unsigned input is allowed explicitly (--allow-unsigned, or
// GRAFT_ALLOW_UNSIGNED=1 for development and test suites).
#pragma once

#include <string>

#include "base/status.h"
#include "trust/keys.h"

namespace graft::trust {

// Signs `file` with `key`; writes FILE.sig (or `out`). Returns the .sig path.
Result<std::string> SignFile(const std::string& file, const SecretKey& key, const std::string& out = "");

struct Verdict {
  bool signed_ = false;  // false: unsigned and allowed
  std::string key_name, key_id, key_path;
};

// Verifies `file` against FILE.sig and the keys of `store` under the policy above.
Result<Verdict> VerifyFile(const std::string& file, const std::string& store, bool allow_unsigned);

// True when GRAFT_ALLOW_UNSIGNED=1 is set.
bool UnsignedAllowedByEnvironment();

}  // namespace graft::trust

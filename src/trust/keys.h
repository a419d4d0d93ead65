// Ed25519 signing keys (libsodium) as small JSON files: a secret key that
// signs (mode 0600, kept by whoever publishes patches) and its public key,
// which hosts trust by putting it in their trust store (/etc/graft/keys, one
// NAME.pub per key). A key is known by its name and its id, the first 8
// bytes of the BLAKE2b hash of the public key in hex.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "base/status.h"

namespace graft::trust {

struct PublicKey {
  std::string name, id;
  std::array<unsigned char, 32> key{};
  std::string path;  // where it was read from
};

struct SecretKey {
  std::string name, id;
  std::array<unsigned char, 64> key{};
};

// Writes DIR/NAME.key (secret, 0600) and DIR/NAME.pub; refuses to overwrite.
Result<PublicKey> GenerateKey(const std::string& name, const std::string& dir);

Result<SecretKey> ReadSecretKey(const std::string& path);
Result<PublicKey> ReadPublicKey(const std::string& path);

// The trust store: $GRAFT_KEYS_DIR, else /etc/graft/keys.
std::string DefaultTrustStore();
// Every *.pub of `dir` (none when it does not exist); a malformed file is an error.
Result<std::vector<PublicKey>> ReadTrustStore(const std::string& dir);

std::string KeyId(const unsigned char* public_key);

}  // namespace graft::trust

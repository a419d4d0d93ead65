#include "trust/signature.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace graft::trust {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr char kFormat[] = "graft-signature-v1";

// What is signed: "graft-signature-v1\0" followed by BLAKE2b-512 of the file.
Result<std::array<unsigned char, 19 + 64>> SignedMessage(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Err("cannot read {}", file);
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 64);
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), buf.size());
    crypto_generichash_update(&st, reinterpret_cast<unsigned char*>(buf.data()), in.gcount());
  }
  std::array<unsigned char, 19 + 64> m{};
  std::memcpy(m.data(), kFormat, 19);  // with its terminating NUL
  crypto_generichash_final(&st, m.data() + 19, 64);
  return m;
}

}  // namespace

bool UnsignedAllowedByEnvironment() {
  const char* v = std::getenv("GRAFT_ALLOW_UNSIGNED");
  return v && std::strcmp(v, "1") == 0;
}

Result<std::string> SignFile(const std::string& file, const SecretKey& key, const std::string& out) {
  if (sodium_init() < 0) return Err("libsodium cannot initialise");
  GRAFT_ASSIGN(auto m, SignedMessage(file));
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, m.data(), m.size(), key.key.data());
  std::string b64(sodium_base64_encoded_len(sizeof sig, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
  b64.resize(std::strlen(b64.c_str()));
  std::string path = out.empty() ? file + ".sig" : out;
  json j = {{"format", kFormat}, {"key", key.name}, {"key_id", key.id}, {"signature", b64}};
  std::string tmp = path + ".tmp";
  {
    std::ofstream o(tmp);
    o << j.dump(2) << "\n";
    if (!o) return Err("cannot write {}", tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Err("cannot write {}: {}", path, ec.message());
  return path;
}

Result<Verdict> VerifyFile(const std::string& file, const std::string& store, bool allow_unsigned) {
  if (sodium_init() < 0) return Err("libsodium cannot initialise");
  std::string sig_path = file + ".sig";
  Verdict v;
  if (!fs::exists(sig_path)) {
    if (allow_unsigned) return v;
    return Err("{} is not signed (no {}): sign it with `graft sign {} --key KEY.key` and trust the key on this host "
               "(copy KEY.pub into {}), or pass --allow-unsigned for development", file, sig_path, file, store);
  }
  std::ifstream in(sig_path);
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != kFormat)
    return Err("{} is not a graft signature ({} expected): refusing {}", sig_path, kFormat, file);
  std::string name = j.value("key", ""), id = j.value("key_id", "");
  std::array<unsigned char, crypto_sign_BYTES> sig{};
  size_t len = 0;
  std::string b64 = j.value("signature", "");
  if (sodium_base642bin(sig.data(), sig.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0 || len != sig.size())
    return Err("{}: the signature is damaged: refusing {}", sig_path, file);
  GRAFT_ASSIGN(std::vector<PublicKey> keys, ReadTrustStore(store));
  const PublicKey* key = nullptr;
  for (const auto& k : keys)
    if (k.id == id) key = &k;
  if (!key) {
    std::string have;
    for (const auto& k : keys) have += fmt::format("{}{} ({})", have.empty() ? "" : ", ", k.name, k.id);
    return Err("{} is signed by key '{}' (id {}), which this host does not trust: {} {}", file, name, id, store,
               have.empty() ? "holds no keys" : "holds " + have);
  }
  GRAFT_ASSIGN(auto m, SignedMessage(file));
  if (crypto_sign_verify_detached(sig.data(), m.data(), m.size(), key->key.data()) != 0)
    return Err("{} does not match its signature by '{}' (id {}): the file was changed after it was signed; "
               "refusing it", file, key->name, key->id);
  v.signed_ = true;
  v.key_name = key->name;
  v.key_id = key->id;
  v.key_path = key->path;
  return v;
}

}  // namespace graft::trust

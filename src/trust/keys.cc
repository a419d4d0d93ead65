#include "trust/keys.h"

#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace graft::trust {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr char kPublicFormat[] = "graft-ed25519-public-v1";
constexpr char kSecretFormat[] = "graft-ed25519-secret-v1";

std::string Base64(const unsigned char* bytes, size_t n) {
  std::string out(sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, n, sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

template <size_t N>
bool FromBase64(const std::string& text, std::array<unsigned char, N>& out) {
  size_t len = 0;
  return sodium_base642bin(out.data(), N, text.data(), text.size(), nullptr, &len, nullptr,
                           sodium_base64_VARIANT_ORIGINAL) == 0 &&
         len == N;
}

Result<json> ReadJson(const std::string& path, const char* format) {
  std::ifstream in(path);
  if (!in) return Err("cannot read key file {}", path);
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != format)
    return Err("{} is not a graft key file ({} expected)", path, format);
  return j;
}

Status CheckName(const std::string& name) {
  if (name.empty() || name.size() > 64) return Err("key name '{}' must have 1 to 64 characters", name);
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return Err("key name '{}' may hold only letters, digits, '-', '_' and '.'", name);
  return OkStatus();
}

}  // namespace

std::string KeyId(const unsigned char* public_key) {
  unsigned char h[8];
  crypto_generichash(h, sizeof h, public_key, crypto_sign_PUBLICKEYBYTES, nullptr, 0);
  char hex[17];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  return hex;
}

Result<PublicKey> GenerateKey(const std::string& name, const std::string& dir) {
  GRAFT_TRY(CheckName(name));
  if (sodium_init() < 0) return Err("libsodium cannot initialise");
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string sec_path = (fs::path(dir) / (name + ".key")).string(), pub_path = (fs::path(dir) / (name + ".pub")).string();
  if (fs::exists(sec_path) || fs::exists(pub_path))
    return Err("{} or {} exists already: a key is never overwritten (choose another name)", sec_path, pub_path);
  PublicKey pub;
  SecretKey sec;
  crypto_sign_keypair(pub.key.data(), sec.key.data());
  pub.name = sec.name = name;
  pub.id = sec.id = KeyId(pub.key.data());
  pub.path = pub_path;
  json s = {{"format", kSecretFormat}, {"name", name}, {"id", sec.id}, {"secret", Base64(sec.key.data(), sec.key.size())}};
  json p = {{"format", kPublicFormat}, {"name", name}, {"id", pub.id}, {"public", Base64(pub.key.data(), pub.key.size())}};
  {
    // Created 0600 before anything is written into it.
    mode_t old = umask(077);
    std::ofstream out(sec_path);
    umask(old);
    out << s.dump(2) << "\n";
    if (!out) return Err("cannot write {}", sec_path);
  }
  chmod(sec_path.c_str(), 0600);
  std::ofstream(pub_path) << p.dump(2) << "\n";
  sodium_memzero(sec.key.data(), sec.key.size());
  return pub;
}

Result<SecretKey> ReadSecretKey(const std::string& path) {
  if (sodium_init() < 0) return Err("libsodium cannot initialise");
  GRAFT_ASSIGN(json j, ReadJson(path, kSecretFormat));
  SecretKey k;
  k.name = j.value("name", "");
  if (!FromBase64(j.value("secret", ""), k.key)) return Err("{}: the secret key is damaged", path);
  // The public half is the secret key's second half: the id follows from it.
  k.id = KeyId(k.key.data() + 32);
  if (k.id != j.value("id", "")) return Err("{}: the key id does not match the key (damaged file?)", path);
  return k;
}

Result<PublicKey> ReadPublicKey(const std::string& path) {
  if (sodium_init() < 0) return Err("libsodium cannot initialise");
  GRAFT_ASSIGN(json j, ReadJson(path, kPublicFormat));
  PublicKey k;
  k.name = j.value("name", "");
  k.path = path;
  if (!FromBase64(j.value("public", ""), k.key)) return Err("{}: the public key is damaged", path);
  k.id = KeyId(k.key.data());
  if (k.id != j.value("id", "")) return Err("{}: the key id does not match the key (damaged file?)", path);
  return k;
}

std::string DefaultTrustStore() {
  const char* d = std::getenv("GRAFT_KEYS_DIR");
  return d && *d ? d : "/etc/graft/keys";
}

Result<std::vector<PublicKey>> ReadTrustStore(const std::string& dir) {
  std::vector<PublicKey> keys;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return keys;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".pub") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    GRAFT_ASSIGN(PublicKey k, ReadPublicKey(f));
    keys.push_back(std::move(k));
  }
  return keys;
}

}  // namespace graft::trust

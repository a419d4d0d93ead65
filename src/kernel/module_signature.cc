#include "kernel/module_signature.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <climits>
#include <fstream>
#include <iterator>
#include <memory>

namespace graft::kernel {

namespace {

constexpr size_t kStructSize = 12;  // sizeof(struct module_signature)

template <typename T, void (*Free)(T*)>
struct OsslDeleter {
  void operator()(T* p) const { Free(p); }
};
using CmsPtr = std::unique_ptr<CMS_ContentInfo, OsslDeleter<CMS_ContentInfo, CMS_ContentInfo_free>>;
using BioPtr = std::unique_ptr<BIO, OsslDeleter<BIO, BIO_free_all>>;

std::string HexColons(const unsigned char* p, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; i++) out += fmt::format("{}{:02X}", i ? ":" : "", p[i]);
  return out;
}

// What modinfo shows as the signer: the issuer's common name, else the
// whole name on one line.
std::string NameText(X509_NAME* name) {
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i >= 0) {
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n >= 0) {
      std::string s(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
      OPENSSL_free(utf8);
      return s;
    }
  }
  char buf[256];
  X509_NAME_oneline(name, buf, sizeof buf);
  return buf;
}

}  // namespace

Result<std::optional<SignatureTrailer>> ParseSignatureTrailer(std::string_view file) {
  if (!file.ends_with(kModuleSignatureMagic)) return std::optional<SignatureTrailer>();
  if (file.size() < kModuleSignatureMagic.size() + kStructSize)
    return Err("the kernel signature trailer is cut short ({} bytes)", file.size());
  size_t at = file.size() - kModuleSignatureMagic.size() - kStructSize;
  auto b = [&](size_t i) { return static_cast<uint8_t>(file[at + i]); };
  SignatureTrailer t;
  t.id_type = static_cast<SignatureIdType>(b(2));
  t.signature_size = (size_t{b(8)} << 24) | (size_t{b(9)} << 16) | (size_t{b(10)} << 8) | b(11);
  // The kernel's mod_check_sig: only PKCS#7, with every other field zero.
  if (t.id_type != SignatureIdType::kPkcs7)
    return Err("the kernel signature is of type {} (the kernel accepts only PKCS#7, type 2)", b(2));
  for (size_t i : {0, 1, 3, 4, 5, 6, 7})
    if (b(i) != 0) return Err("the kernel signature header has a non-zero byte at offset {}: malformed", i);
  if (t.signature_size == 0 || t.signature_size > at)
    return Err("the kernel signature claims {} bytes, the module has {} before it: malformed", t.signature_size, at);
  t.module_size = at - t.signature_size;
  return std::optional<SignatureTrailer>(t);
}

Result<ModuleSignature> ParseModuleSignature(std::string_view bytes) {
  GRAFT_ASSIGN(auto trailer, ParseSignatureTrailer(bytes));
  ModuleSignature sig;
  if (!trailer) return sig;
  sig.present = true;
  sig.module_size = trailer->module_size;
  sig.signature_size = trailer->signature_size;

  if (sig.signature_size > INT_MAX) return Err("the kernel signature claims {} bytes: malformed", sig.signature_size);
  BioPtr bio(BIO_new_mem_buf(bytes.data() + sig.module_size, static_cast<int>(sig.signature_size)));
  CmsPtr cms(d2i_CMS_bio(bio.get(), nullptr));
  if (!cms) return Err("the kernel signature is not a PKCS#7/CMS structure (the kernel refuses it)");
  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms.get());
  if (!signers || sk_CMS_SignerInfo_num(signers) < 1) return Err("the kernel signature names no signer");
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(signers, 0);

  ASN1_OCTET_STRING* keyid = nullptr;
  X509_NAME* issuer = nullptr;
  ASN1_INTEGER* serial = nullptr;
  if (CMS_SignerInfo_get0_signer_id(si, &keyid, &issuer, &serial) != 1)
    return Err("cannot read the signer of the kernel signature");
  if (issuer) sig.signer = NameText(issuer);
  if (serial) sig.key_id = HexColons(serial->data, static_cast<size_t>(serial->length));
  if (keyid) sig.key_id = HexColons(keyid->data, static_cast<size_t>(keyid->length));

  X509_ALGOR* digest = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest, nullptr);
  if (digest) {
    const ASN1_OBJECT* obj = nullptr;
    X509_ALGOR_get0(&obj, nullptr, nullptr, digest);
    if (int nid = OBJ_obj2nid(obj); nid != NID_undef) sig.hash_algo = OBJ_nid2ln(nid);
  }
  return sig;
}

Result<ModuleSignature> ReadModuleSignature(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err("cannot read {}", path);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto sig = ParseModuleSignature(bytes);
  if (!sig.ok()) return sig.error().context(path);
  return sig;
}

}  // namespace graft::kernel

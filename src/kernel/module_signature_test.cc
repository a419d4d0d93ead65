// The kernel's module signature: the trailer layout as the kernel's
// mod_check_sig reads it, real signatures made by the kernel's sign-file
// with a key generated here (compared with what modinfo prints), and the
// explanation of a refusal.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "base/testing.h"
#include "kernel/module_signature.h"
#include "kernel/module_signing.h"

namespace graft::kernel {
namespace {

namespace fs = std::filesystem;

// A trailer of `sig_len` bytes of signature with the given header bytes.
std::string Trailer(uint32_t sig_len, uint8_t id_type = 2, uint8_t pad0 = 0) {
  std::string t = {0, 0, static_cast<char>(id_type), 0, 0, static_cast<char>(pad0), 0, 0};
  t += static_cast<char>(sig_len >> 24);
  t += static_cast<char>(sig_len >> 16);
  t += static_cast<char>(sig_len >> 8);
  t += static_cast<char>(sig_len);
  return t + std::string(kModuleSignatureMagic);
}

TEST(SignatureTrailer, UnsignedModuleHasNone) {
  auto t = ParseSignatureTrailer("\x7f" "ELF...module bytes");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->has_value());
}

TEST(SignatureTrailer, SplitsModuleAndSignature) {
  std::string file = std::string(100, 'm') + std::string(40, 's') + Trailer(40);
  auto t = ParseSignatureTrailer(file);
  ASSERT_TRUE(t.ok()) << t.error().message();
  ASSERT_TRUE(t->has_value());
  EXPECT_EQ((*t)->module_size, 100u);
  EXPECT_EQ((*t)->signature_size, 40u);
  EXPECT_EQ((*t)->id_type, SignatureIdType::kPkcs7);
}

TEST(SignatureTrailer, RefusesWhatTheKernelRefuses) {
  std::string body = std::string(100, 'm') + std::string(40, 's');
  auto pgp = ParseSignatureTrailer(body + Trailer(40, 0));
  ASSERT_FALSE(pgp.ok());
  EXPECT_NE(pgp.error().message().find("only PKCS#7"), std::string::npos) << pgp.error().message();
  auto pad = ParseSignatureTrailer(body + Trailer(40, 2, 1));
  ASSERT_FALSE(pad.ok());
  EXPECT_NE(pad.error().message().find("offset 5"), std::string::npos) << pad.error().message();
  auto longer = ParseSignatureTrailer(body + Trailer(500));
  ASSERT_FALSE(longer.ok());
  EXPECT_NE(longer.error().message().find("claims 500 bytes"), std::string::npos) << longer.error().message();
  EXPECT_FALSE(ParseSignatureTrailer(std::string(kModuleSignatureMagic)).ok());
}

std::string ShellOutput(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[512];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  if (p) pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

KernelSignOptions Options(const std::string& key, const std::string& cert, const std::string& hash = "sha256") {
  KernelSignOptions o;
  o.key = key;
  o.cert = cert;
  o.hash = hash;
  return o;
}

// A module-shaped object (.modinfo with a vermagic) and a fresh key pair.
struct SigningFixture {
  testing::Scratch s;
  std::string module, key, cert;
  SigningFixture() {
    s.Write("lp.c",
            "static const char v[] __attribute__((section(\".modinfo\"), used)) = "
            "\"vermagic=6.1.0-57-amd64 SMP preempt mod_unload modversions \";\n"
            "static const char l[] __attribute__((section(\".modinfo\"), used)) = \"livepatch=Y\";\n"
            "int fixture_init(void) { return 0; }\n");
    module = s.Compile("lp.c", "livepatch_fix.ko", "-c");
    key = s.Path("mok.priv");
    cert = s.Path("mok.der");
    std::string cmd = "openssl req -new -x509 -newkey rsa:2048 -nodes -days 30 -subj '/CN=graft test MOK/' "
                      "-outform DER -keyout " + key + " -out " + cert + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl req failed");
  }
};

TEST(KernelSigning, SignFileSignatureReadsLikeModinfo) {
  if (!FindSignFile("6.1.0-57-amd64").ok()) GTEST_SKIP() << "no kernel sign-file (linux-kbuild) installed";
  SigningFixture f;
  size_t unsigned_size = fs::file_size(f.module);
  auto before = ReadModuleSignature(f.module);
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->present);

  auto sig = SignModuleForKernel(f.module, Options(f.key, f.cert));
  ASSERT_TRUE(sig.ok()) << sig.error().message();
  EXPECT_TRUE(sig->present);
  EXPECT_EQ(sig->module_size, unsigned_size);
  EXPECT_EQ(sig->signer, "graft test MOK");
  EXPECT_EQ(sig->hash_algo, "sha256");
  // kmod's reading of the same PKCS#7 signer info.
  if (!ShellOutput("command -v modinfo").empty()) {
    EXPECT_EQ(sig->signer, ShellOutput("modinfo -F signer " + f.module));
    EXPECT_EQ(sig->key_id, ShellOutput("modinfo -F sig_key " + f.module));
    EXPECT_EQ(sig->hash_algo, ShellOutput("modinfo -F sig_hashalgo " + f.module));
  }

  // Signing again replaces the signature instead of stacking a second one.
  auto again = SignModuleForKernel(f.module, Options(f.key, f.cert, "sha512"));
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->module_size, unsigned_size);
  EXPECT_EQ(again->hash_algo, "sha512");
  EXPECT_EQ(fs::file_size(f.module), unsigned_size + again->signature_size + 12 + kModuleSignatureMagic.size());
}

TEST(KernelSigning, BadKeyIsNamed) {
  if (!FindSignFile("6.1.0-57-amd64").ok()) GTEST_SKIP() << "no kernel sign-file (linux-kbuild) installed";
  SigningFixture f;
  auto sig = SignModuleForKernel(f.module, Options(f.s.Path("missing.pem"), f.cert));
  ASSERT_FALSE(sig.ok());
  EXPECT_NE(sig.error().message().find("could not sign"), std::string::npos) << sig.error().message();
  EXPECT_FALSE(ReadModuleSignature(f.module)->present);
}

TEST(SignatureRefusal, NamesWhatIsMissingAndWhatToDo) {
  SigningFixture f;
  SignatureEnforcement enforced{true, "none"};
  std::string unsigned_why = ExplainSignatureRefusal(f.module, EKEYREJECTED, {"Loading of unsigned module is rejected"},
                                                     enforced);
  EXPECT_NE(unsigned_why.find("carries no kernel module signature"), std::string::npos) << unsigned_why;
  EXPECT_NE(unsigned_why.find("module.sig_enforce=1"), std::string::npos) << unsigned_why;
  EXPECT_NE(unsigned_why.find("mokutil --import"), std::string::npos) << unsigned_why;
  // Not about signatures: left to the other hints.
  EXPECT_EQ(ExplainSignatureRefusal(f.module, ENOENT, {}, enforced), "");
  EXPECT_EQ(ExplainSignatureRefusal(f.module, EPERM, {}, SignatureEnforcement{}), "");

  if (!FindSignFile("6.1.0-57-amd64").ok()) return;
  ASSERT_TRUE(SignModuleForKernel(f.module, Options(f.key, f.cert)).ok());
  std::string untrusted = ExplainSignatureRefusal(
      f.module, EKEYREJECTED, {"Loading of module with unavailable key is rejected"}, enforced);
  EXPECT_NE(untrusted.find("signed for the kernel by 'graft test MOK'"), std::string::npos) << untrusted;
  EXPECT_NE(untrusted.find("does not trust"), std::string::npos) << untrusted;
  std::string lockdown = ExplainSignatureRefusal(
      f.module, EPERM, {"Lockdown: graft: unsigned module loading is restricted; see man kernel_lockdown.7"},
      SignatureEnforcement{false, "integrity"});
  EXPECT_NE(lockdown.find("lockdown=integrity"), std::string::npos) << lockdown;
}

}  // namespace
}  // namespace graft::kernel

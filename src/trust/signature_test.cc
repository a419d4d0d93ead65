#include "trust/signature.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "base/testing.h"

namespace graft::trust {
namespace {

TEST(Signature, SignedFileVerifiesWithATrustedKeyOnly) {
  testing::Scratch s;
  auto pub = GenerateKey("acme-patches", s.Path("signer"));
  ASSERT_TRUE(pub.ok()) << pub.error().message();
  struct stat st;
  ASSERT_EQ(stat(s.Path("signer/acme-patches.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(GenerateKey("acme-patches", s.Path("signer")).ok());  // never overwritten
  auto sec = ReadSecretKey(s.Path("signer/acme-patches.key"));
  ASSERT_TRUE(sec.ok()) << sec.error().message();
  EXPECT_EQ(sec->id, pub->id);

  std::string file = s.Write("fix.graft", "bundle bytes");
  ASSERT_TRUE(SignFile(file, *sec).ok());
  std::filesystem::create_directories(s.Path("store"));
  // Not trusted yet: refused, naming the key.
  auto v = VerifyFile(file, s.Path("store"), true);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message().find("signed by key 'acme-patches' (id " + pub->id + "), which this host does not trust"),
            std::string::npos) << v.error().message();
  std::filesystem::copy_file(s.Path("signer/acme-patches.pub"), s.Path("store/acme-patches.pub"));
  v = VerifyFile(file, s.Path("store"), false);
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_TRUE(v->signed_);
  EXPECT_EQ(v->key_name, "acme-patches");

  // One byte changed after signing: refused even when unsigned input is allowed.
  s.Write("fix.graft", "bundle bytez");
  v = VerifyFile(file, s.Path("store"), true);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message().find("does not match its signature by 'acme-patches'"), std::string::npos)
      << v.error().message();
}

TEST(Signature, UnsignedOnlyWhenAllowed) {
  testing::Scratch s;
  std::string file = s.Write("m.ko", "module");
  auto v = VerifyFile(file, s.Path("store"), false);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message().find("is not signed (no " + file + ".sig)"), std::string::npos) << v.error().message();
  v = VerifyFile(file, s.Path("store"), true);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->signed_);
  s.Write("m.ko.sig", "{\"format\": \"graft-signature-v1\", \"key\": \"x\", \"key_id\": \"00\", \"signature\": \"!!\"}");
  v = VerifyFile(file, s.Path("store"), true);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message().find("damaged"), std::string::npos) << v.error().message();
}

TEST(Signature, DamagedKeyFilesAreNamed) {
  testing::Scratch s;
  std::filesystem::create_directories(s.Path("store"));
  s.Write("store/bad.pub", "{\"format\": \"graft-ed25519-public-v1\", \"name\": \"bad\", \"id\": \"x\", \"public\": \"AAAA\"}");
  auto keys = ReadTrustStore(s.Path("store"));
  ASSERT_FALSE(keys.ok());
  EXPECT_NE(keys.error().message().find("bad.pub: the public key is damaged"), std::string::npos) << keys.error().message();
  EXPECT_FALSE(GenerateKey("no/slash", s.Path("k")).ok());
}

}  // namespace
}  // namespace graft::trust

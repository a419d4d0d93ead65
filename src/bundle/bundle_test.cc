// The bundle file format: round trip, and every kind of damage is refused
// with a message saying what is wrong.
#include "bundle/bundle.h"

#include <gtest/gtest.h>
#include <sodium.h>

namespace graft::bundle {
namespace {

Bundle Sample() {
  Bundle b;
  b.id = "cve-2099-1";
  b.description = "sample";
  b.cves = {"CVE-2099-0001"};
  b.target_name = "prog";
  b.target_build_id = "abcd";
  Section s;
  s.name = "check";
  s.kind = Section::Kind::kText;
  s.align = 16;
  s.bytes = {0x55, 0x48, 0x89, 0xe5, 0x90, 0x90, 0x90, 0x90, 0x5d, 0xc3};
  s.size = s.bytes.size();
  s.relocs.push_back({4, 2, -4, Reloc::Kind::kTarget, 0, 0x1234, "limit"});
  b.sections.push_back(s);
  b.functions.push_back({"check", 0x1100, 40, 0, std::vector<uint8_t>(40, 0x90)});
  return b;
}

TEST(Bundle, RoundTrips) {
  auto bytes = Encode(Sample());
  auto b = Decode(bytes, "mem");
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(b->id, "cve-2099-1");
  EXPECT_EQ(b->cves, std::vector<std::string>{"CVE-2099-0001"});
  ASSERT_EQ(b->sections.size(), 1u);
  EXPECT_EQ(b->sections[0].bytes, Sample().sections[0].bytes);
  ASSERT_EQ(b->sections[0].relocs.size(), 1u);
  EXPECT_EQ(b->sections[0].relocs[0].address, 0x1234u);
  EXPECT_EQ(b->sections[0].relocs[0].addend, -4);
  EXPECT_EQ(b->functions[0].expected.size(), 40u);
}

TEST(Bundle, DetectsEveryFlippedByte) {
  auto good = Encode(Sample());
  for (size_t i = 0; i < good.size(); i += 7) {
    auto bad = good;
    bad[i] ^= 0x40;
    EXPECT_FALSE(Decode(bad, "mem").ok()) << "flip at " << i << " went unnoticed";
  }
}

TEST(Bundle, RefusesTruncationAndForeignFiles) {
  auto good = Encode(Sample());
  good.resize(good.size() / 2);
  auto r = Decode(good, "half");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("checksum"), std::string::npos);
  auto f = Decode(std::vector<uint8_t>{0x7f, 'E', 'L', 'F'}, "elf");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message().find("not a graft bundle"), std::string::npos);
}

TEST(Bundle, HostileCborSizesAreAnErrorNotACrash) {
  // Found by bundle_fuzz.cc: an array header claiming 2^63 elements made the
  // CBOR reader throw even with exceptions disabled.
  std::vector<uint8_t> payload = {0x9b, 0x82, 0, 0, 0, 0, 0, 0, 0x46};
  auto framed = Encode(Bundle{});
  framed.resize(44);
  framed.insert(framed.end(), payload.begin(), payload.end());
  crypto_generichash(&framed[12], 32, payload.data(), payload.size(), nullptr, 0);
  auto r = Decode(framed, "hostile");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("not valid CBOR"), std::string::npos) << r.error().message();
}

TEST(Bundle, ValidatesIds) {
  EXPECT_TRUE(ValidateId("cve-2022-28805.v2").ok());
  EXPECT_FALSE(ValidateId("").ok());
  EXPECT_FALSE(ValidateId("has space").ok());
  EXPECT_FALSE(ValidateId("../escape").ok());
  EXPECT_FALSE(ValidateId(std::string(49, 'a')).ok());
}


// Each field is checked before use: a bundle that decodes but would make
// apply read or write out of bounds is refused, naming the field.
TEST(Bundle, ValidatesFieldsBeforeUse) {
  auto refused = [](Bundle b, const std::string& words) {
    auto r = Decode(Encode(b), "mem");
    ASSERT_FALSE(r.ok()) << "accepted a bundle that should mention: " << words;
    EXPECT_NE(r.error().message().find(words), std::string::npos) << r.error().message();
  };
  Bundle b = Sample();
  b.arch = "aarch64";
  refused(b, "architecture 'aarch64'");
  b = Sample();
  b.functions[0].expected.resize(12);
  refused(b, "12 bytes of expected code for a 40-byte function");
  b = Sample();
  b.sections[0].kind = Section::Kind::kData;
  refused(b, "which is not code");
  b = Sample();
  b.sections[0].relocs[0].offset = 9;
  refused(b, "lies outside it");
  b = Sample();
  b.sections[0].relocs[0].kind = Reloc::Kind::kSection;
  b.sections[0].relocs[0].section = 7;
  refused(b, "missing section 7");
  b = Sample();
  b.supersedes = {"../up"};
  refused(b, "may only contain");
  b = Sample();
  b.description = "broken \xcb";
  refused(b, "UTF-8");
  b = Sample();
  b.eh_frame_section = 0;
  b.unwind_object_section = 0;
  refused(b, "not a read-only .eh_frame");
}

}  // namespace
}  // namespace graft::bundle

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "arch/arch.h"

namespace graft::arch {
namespace {

using Bytes = std::vector<uint8_t>;

TEST(RouteThroughCell, LoadUsesItsOwnDestination) {
  // mov 0(%rip),%eax with the displacement at +2; a nop follows.
  Bytes code = {0x8b, 0x05, 0, 0, 0, 0, 0x90};
  auto r = HostArch().RouteThroughCell(code, 2);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->start, 0u);
  EXPECT_EQ(r->end, 6u);
  EXPECT_EQ(r->entry, (Bytes{0xe9, 0, 0, 0, 0, 0xcc}));
  EXPECT_EQ(r->operand_bias, 4);
  // mov cell(%rip),%rax; mov (%rax),%eax; jmp back
  EXPECT_EQ(r->thunk, (Bytes{0x48, 0x8b, 0x05, 0, 0, 0, 0, 0x8b, 0x00, 0xe9, 0, 0, 0, 0}));
  EXPECT_EQ(r->cell_field, 3u);
  EXPECT_EQ(r->back_field, 10u);
}

TEST(RouteThroughCell, ReadModifyWriteBorrowsARegisterBelowTheRedZone) {
  // addw $1,0(%rip): 0x66 prefix, immediate after the displacement.
  Bytes code = {0x66, 0x83, 0x05, 0, 0, 0, 0, 0x01};
  auto r = HostArch().RouteThroughCell(code, 3);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->operand_bias, 5);  // the operand is 5 bytes past the field (4 + the immediate)
  EXPECT_EQ(r->thunk, (Bytes{0x48, 0x8d, 0x64, 0x24, 0x80,              // lea -0x80(%rsp),%rsp
                             0x41, 0x53,                                // push %r11
                             0x4c, 0x8b, 0x1d, 0, 0, 0, 0,              // mov cell(%rip),%r11
                             0x66, 0x41, 0x83, 0x03, 0x01,              // addw $1,(%r11)
                             0x41, 0x5b,                                // pop %r11
                             0x48, 0x8d, 0xa4, 0x24, 0x80, 0, 0, 0,     // lea 0x80(%rsp),%rsp
                             0xe9, 0, 0, 0, 0}));
}

TEST(RouteThroughCell, StoreFromR11BorrowsAnother) {
  // mov %r11,0(%rip) (4c 89 1d): r11 is the source, so r10 is borrowed.
  Bytes code = {0x4c, 0x89, 0x1d, 0, 0, 0, 0};
  auto r = HostArch().RouteThroughCell(code, 3);
  ASSERT_TRUE(r.ok()) << r.error().message();
  Bytes moved = {0x4d, 0x89, 0x1a};  // mov %r11,(%r10)
  EXPECT_NE(std::search(r->thunk.begin(), r->thunk.end(), moved.begin(), moved.end()), r->thunk.end());
}

TEST(RouteThroughCell, BaseRegistersNeedingSibOrDisp8) {
  // mov 0(%rip),%rbp -> mov (%rbp),%rbp needs mod 01 + disp8; %r12 needs a SIB byte.
  Bytes rbp = {0x48, 0x8b, 0x2d, 0, 0, 0, 0};
  auto r = HostArch().RouteThroughCell(rbp, 3);
  ASSERT_TRUE(r.ok()) << r.error().message();
  Bytes moved = {0x48, 0x8b, 0x6d, 0x00};
  EXPECT_NE(std::search(r->thunk.begin(), r->thunk.end(), moved.begin(), moved.end()), r->thunk.end());
  Bytes r12 = {0x4c, 0x8b, 0x25, 0, 0, 0, 0};
  r = HostArch().RouteThroughCell(r12, 3);
  ASSERT_TRUE(r.ok()) << r.error().message();
  moved = {0x4d, 0x8b, 0x24, 0x24};
  EXPECT_NE(std::search(r->thunk.begin(), r->thunk.end(), moved.begin(), moved.end()), r->thunk.end());
}

TEST(RouteThroughCell, RefusesBranchesAndStackForms) {
  Bytes call = {0xff, 0x15, 0, 0, 0, 0};  // call *0(%rip)
  EXPECT_FALSE(HostArch().RouteThroughCell(call, 2).ok());
  Bytes push = {0xff, 0x35, 0, 0, 0, 0};  // push 0(%rip)
  auto r = HostArch().RouteThroughCell(push, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("stack pointer"), std::string::npos) << r.error().message();
  Bytes lea = {0x48, 0x8d, 0x05, 0, 0, 0, 0};  // lea: the field is an address, not an access, yet movable
  EXPECT_TRUE(HostArch().RouteThroughCell(lea, 3).ok());
}

}  // namespace
}  // namespace graft::arch

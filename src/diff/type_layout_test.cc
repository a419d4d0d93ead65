// Type layouts read from real objects compiled with -g: an added member, a
// resized array and a changed anonymous typedef'd struct are reported by
// name; unchanged types and objects without DWARF report nothing.
#include "diff/type_layout.h"

#include <gtest/gtest.h>

#include "base/testing.h"

namespace graft::diff {
namespace {

using graft::testing::Scratch;

const char* kTypes = R"(
struct parser { int state; char *buf; long len; };
struct untouched { int a, b; };
typedef struct { short x; short y; } point;
union value { int i; double d; };
int use(struct parser *p, struct untouched *u, point *pt, union value *v) {
  return p->state + u->a + pt->x + v->i;
}
)";

std::string Edited(std::string text, const std::string& from, const std::string& to) {
  return text.replace(text.find(from), from.size(), to);
}

std::map<std::string, TypeLayout> Layouts(Scratch& s, const std::string& src, const std::string& flags) {
  s.Write("t.c", src);
  auto r = ReadTypeLayouts(s.Compile("t.c", "t.o", "-c " + flags));
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? *r : std::map<std::string, TypeLayout>{};
}

TEST(TypeLayout, ReadsStructsUnionsAndTypedefs) {
  Scratch s;
  auto l = Layouts(s, kTypes, "-O2 -g");
  ASSERT_TRUE(l.count("struct parser"));
  EXPECT_EQ(l["struct parser"].size, 24u);
  EXPECT_EQ(l["struct parser"].members,
            (std::vector<std::string>{"state@0:int(4)", "buf@8:char *(8)", "len@16:long int(8)"}));
  EXPECT_TRUE(l.count("union value"));
  EXPECT_EQ(l["typedef point"].size, 4u);
}

TEST(TypeLayout, ReportsChangedTypesOnly) {
  Scratch s;
  auto before = Layouts(s, kTypes, "-O2 -g");
  std::string fixed = Edited(kTypes, "long len;", "long len; int deferred;");
  fixed = Edited(fixed, "short y;", "int y;");
  auto after = Layouts(s, fixed, "-O2 -g");
  auto changes = LayoutChanges(before, after);
  ASSERT_EQ(changes.size(), 2u) << ::testing::PrintToString(changes);
  EXPECT_EQ(changes[0], "struct parser: 24 -> 32 bytes; added deferred@24:int(4)");
  EXPECT_EQ(changes[1], "typedef point: 4 -> 8 bytes; changed y@2:short int(2) -> y@4:int(4)");
  std::string moved = Edited(kTypes, "int state;", "int state; char early[8];");
  auto shifted = LayoutChanges(before, Layouts(s, moved, "-O2 -g"));
  ASSERT_EQ(shifted.size(), 1u);
  EXPECT_EQ(shifted[0], "struct parser: 24 -> 32 bytes; added early@4:char[8](8); 2 member(s) moved");
  EXPECT_TRUE(LayoutChanges(before, before).empty());
}

TEST(TypeLayout, NoDebugInformationMeansNothingToCompare) {
  Scratch s;
  EXPECT_TRUE(Layouts(s, kTypes, "-O2").empty());
  bool dwarf = true;
  ASSERT_TRUE(ReadTypeLayouts(s.Path("t.o"), &dwarf).ok());
  EXPECT_FALSE(dwarf);
  s.Write("u.c", "int f(int x) { return x + 1; }\n");  // DWARF, but no types to compare
  auto none = ReadTypeLayouts(s.Compile("u.c", "u.o", "-c -O2 -g"), &dwarf);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(dwarf);
}

}  // namespace
}  // namespace graft::diff

// Which arguments of a link command are the objects linked: by content, as
// builds name objects freely (bzip2 links its PIC objects as x.sho).
#include "build/compiler_wrapper.h"

#include <gtest/gtest.h>

#include "base/testing.h"

namespace graft::build {
namespace {

using graft::testing::Scratch;

TEST(LinkInputs, ObjectsAndArchivesByContentWhateverTheirName) {
  Scratch s;
  s.Write("a.c", "int a(void) { return 1; }\n");
  s.Write("b.c", "int b(void) { return 2; }\n");
  s.Compile("a.c", "a.sho", "-c -fPIC");
  s.Compile("b.c", "b.o", "-c -fPIC");
  s.Compile("b.c", "b.os", "-c -fPIC");
  ASSERT_EQ(std::system(("cd " + s.Path("") + " && ar rc libb.a b.o && ar rcT libthin.a b.o").c_str()), 0);
  s.Compile("b.o", "libb.so", "-shared");  // a shared library is not linked in
  s.Write("map.ld", "VERSION { global: *; };\n");
  std::vector<std::string> args = {"-o", "libx.so.1.0.4", "-shared", "-Wl,-z,relro", "-Wl,-soname,libx.so.1",
                                   "a.sho", "b.os", "libb.a", "libthin.a", "libb.so", "-Wl,--version-script=map.ld",
                                   "map.ld", "missing.o", "-L.", "-lc"};
  EXPECT_EQ(LinkInputs(args, s.Path("")), (std::vector<std::string>{"a.sho", "b.os", "libb.a", "libthin.a"}));
}

TEST(LinkInputs, TheOutputIsNoInputEvenWhenItExists) {
  Scratch s;
  s.Write("a.c", "int a(void) { return 1; }\n");
  s.Compile("a.c", "a.o", "-c");
  s.Compile("a.c", "out.o", "-c");  // an earlier `ld -r` result, about to be replaced
  EXPECT_EQ(LinkInputs({"-r", "-o", "out.o", "a.o"}, s.Path("")), (std::vector<std::string>{"a.o"}));
  // A source on the command line is compiled, not an input object.
  EXPECT_EQ(LinkInputs({"-o", "prog", "main.c", "a.o"}, s.Path("")), (std::vector<std::string>{"a.o"}));
}

}  // namespace
}  // namespace graft::build

// <graft/livepatch.h> compiled for real (outside the kernel: the records are
// the same) and read back, and the klp_patch fragments generated from it.
// The kernel running the callbacks is tests/e2e/kernel_author_api.sh.
#include "kernel/author_api.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/testing.h"

namespace graft::kernel {
namespace {

using graft::testing::kObjectFlags;
using graft::testing::Scratch;

Result<AuthorDeclarations> Declared(Scratch& s, const std::string& source) {
  std::string flag = WriteAuthorApiHeader(s.Path("inc")).value();
  s.Write("fix.c", "#include <graft/livepatch.h>\n" + source);
  s.Compile("fix.c", "fix.o", std::string(kObjectFlags) + " " + flag);
  auto o = elf::ObjectFile::Open(s.Path("fix.o")).value();
  return ReadAuthorDeclarations({o.get()});
}

TEST(AuthorApi, CallbacksAndIgnoredFunctionsAreReadFromTheFixedObject) {
  Scratch s;
  auto d = Declared(s,
                    "static int ok;\n"
                    "static int check(struct klp_object *o) { return ok ? 0 : -22; }\n"
                    "GRAFT_PRE_PATCH(check);\n"
                    "static void attach(struct klp_object *o) { ok = 2; }\n"
                    "GRAFT_POST_PATCH(attach);\n"
                    "void detach(struct klp_object *o) { ok = 3; }\n"
                    "GRAFT_PRE_UNPATCH(detach);\n"
                    "GRAFT_POST_UNPATCH(detach);\n"
                    "__attribute__((noinline)) int caller(int x) { return x + ok; }\n"
                    "GRAFT_IGNORE_FUNCTION(caller);\n");
  ASSERT_TRUE(d.ok()) << d.error().message();
  std::map<std::string, std::string> want = {
      {"pre_patch", "check"}, {"post_patch", "attach"}, {"pre_unpatch", "detach"}, {"post_unpatch", "detach"}};
  EXPECT_EQ(d->callbacks, want);
  EXPECT_EQ(d->ignored_functions, std::vector<std::string>{"caller"});
}

TEST(AuthorApi, AnIgnoredFunctionIsIgnoredByEveryName) {
  // module_init(fn) makes init_module an alias of fn.
  Scratch s;
  auto d = Declared(s,
                    "static int note_init(void) { return 0; }\n"
                    "int init_module(void) __attribute__((alias(\"note_init\")));\n"
                    "GRAFT_IGNORE_FUNCTION(note_init);\n");
  ASSERT_TRUE(d.ok()) << d.error().message();
  std::vector<std::string> names = d->ignored_functions;
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"init_module", "note_init"}));
}

TEST(AuthorApi, RefusesTwoCallbacksOfOneKind) {
  Scratch s;
  auto d = Declared(s,
                    "static void a(struct klp_object *o) {}\nGRAFT_POST_PATCH(a);\n"
                    "static void b(struct klp_object *o) {}\nGRAFT_POST_PATCH(b);\n");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message().find("two post_patch callbacks"), std::string::npos) << d.error().message();
}

TEST(AuthorApi, AnObjectWithoutTheHeaderDeclaresNothing) {
  Scratch s;
  s.Write("plain.c", "int f(int x) { return x; }\n");
  s.Compile("plain.c", "plain.o", kObjectFlags);
  auto o = elf::ObjectFile::Open(s.Path("plain.o")).value();
  auto d = ReadAuthorDeclarations({o.get()});
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->callbacks.empty());
  EXPECT_TRUE(d->ignored_functions.empty());
}

TEST(AuthorApi, CallbackFragmentsFollowStructKlpCallbacks) {
  std::map<std::string, std::string> syms = {{"post_unpatch", "__graft_callback_post_unpatch"},
                                             {"pre_patch", "__graft_callback_pre_patch"}};
  EXPECT_EQ(CallbackDeclarations(syms),
            "void __graft_callback_post_unpatch(struct klp_object *obj);\n"
            "int __graft_callback_pre_patch(struct klp_object *obj);\n");
  EXPECT_EQ(CallbacksMember(syms),
            ", .callbacks = { .pre_patch = __graft_callback_pre_patch, .post_unpatch = __graft_callback_post_unpatch }");
  EXPECT_EQ(CallbacksMember({}), "");
}

}  // namespace
}  // namespace graft::kernel

#include "base/unified_diff.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/testing.h"

namespace graft {
namespace {

TEST(UnifiedDiff, HeadersOutsideHunksOnly) {
  testing::Scratch s;
  // The second hunk removes a line "-- x" (shown as "--- x") and adds "++ y"
  // (shown as "+++ y"): neither is a file header.
  std::string p = s.Write("fix.patch",
                          "From 123 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] fix\n\n"
                          "diff --git a/fs/proc/meminfo.c b/fs/proc/meminfo.c\nindex 1..2 100644\n"
                          "--- a/fs/proc/meminfo.c\n+++ b/fs/proc/meminfo.c\n@@ -1,2 +1,2 @@ f\n ctx\n-x\n+y\n"
                          "@@ -10 +10 @@\n--- x\n+++ y\n"
                          "--- src.orig/net/core/sock.c\t2024-01-01 00:00:00\n+++ src/net/core/sock.c\t2024-01-02\n"
                          "@@ -5,3 +5,2 @@\n a\n-b\n\n\\ No newline at end of file\n");
  auto changes = ReadUnifiedDiff(p);
  ASSERT_TRUE(changes.ok()) << changes.error().message();
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].old_path, "a/fs/proc/meminfo.c");
  EXPECT_EQ((*changes)[1].old_path, "src.orig/net/core/sock.c");
  EXPECT_EQ((*changes)[1].new_path, "src/net/core/sock.c");
}

TEST(UnifiedDiff, GitCreatesDeletesRenames) {
  testing::Scratch s;
  std::string p = s.Write("git.patch",
                          "diff --git a/x.c b/x.c\nnew file mode 100644\nindex 0..1\n--- /dev/null\n+++ b/x.c\n@@ -0,0 +1 @@\n+a\n"
                          "diff --git a/y.c b/z.c\nsimilarity index 100%\nrename from y.c\nrename to z.c\n"
                          "diff --git a/w.c b/w.c\ndeleted file mode 100644\n--- a/w.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n");
  auto c = ReadUnifiedDiff(p);
  ASSERT_TRUE(c.ok()) << c.error().message();
  ASSERT_EQ(c->size(), 3u);
  EXPECT_TRUE((*c)[0].created);
  EXPECT_TRUE((*c)[1].renamed);
  EXPECT_EQ((*c)[1].new_path, "z.c");
  EXPECT_TRUE((*c)[2].deleted);
}

TEST(UnifiedDiff, BrokenHunkIsNamed) {
  testing::Scratch s;
  std::string p = s.Write("bad.patch", "--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n a\n-b\nnot a diff line\n");
  auto c = ReadUnifiedDiff(p);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("bad.patch:6: hunk ends early"), std::string::npos) << c.error().message();
  std::string none = s.Write("none.patch", "just text\n");
  ASSERT_FALSE(ReadUnifiedDiff(none).ok());
}

TEST(UnifiedDiff, StripComponents) {
  EXPECT_EQ(StripComponents("a/fs/proc/x.c", 1), "fs/proc/x.c");
  EXPECT_EQ(StripComponents("fs/proc/x.c", 0), "fs/proc/x.c");
  EXPECT_EQ(StripComponents("x.c", 1), "");
  EXPECT_EQ(StripComponents("linux-6.1//mm/slub.c", 1), "mm/slub.c");
}

TEST(UnifiedDiff, LevelFromTheTree) {
  testing::Scratch s;
  std::filesystem::create_directories(s.Path("tree/fs/xfs/libxfs"));
  std::filesystem::create_directories(s.Path("tree/net/core"));
  s.Write("tree/fs/xfs/libxfs/xfs_alloc.c", "x\n");
  s.Write("tree/net/core/sock.c", "x\n");
  std::string p1 = s.Write("p1.patch",
                           "--- src.orig/fs/xfs/libxfs/xfs_alloc.c\n+++ src/fs/xfs/libxfs/xfs_alloc.c\n@@ -1 +1 @@\n-x\n+y\n"
                           "--- src.orig/net/core/sock.c\n+++ src/net/core/sock.c\n@@ -1 +1 @@\n-x\n+y\n");
  auto tc = ChangesInTree(p1, s.Path("tree"), "a live patch");
  ASSERT_TRUE(tc.ok()) << tc.error().message();
  EXPECT_EQ(tc->strip, 1);
  EXPECT_EQ(tc->files, (std::vector<std::string>{"fs/xfs/libxfs/xfs_alloc.c", "net/core/sock.c"}));
  std::string p0 = s.Write("p0.patch", "--- net/core/sock.c\n+++ net/core/sock.c\n@@ -1 +1 @@\n-x\n+y\n");
  EXPECT_EQ(ChangesInTree(p0, s.Path("tree"), "x")->strip, 0);
  std::string added = s.Write("add.patch", "--- /dev/null\n+++ b/fs/proc/new.c\n@@ -0,0 +1 @@\n+y\n");
  auto a = ChangesInTree(added, s.Path("tree"), "a live patch");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message().find("adds b/fs/proc/new.c: a live patch can only change existing files"),
            std::string::npos) << a.error().message();
  std::string other = s.Write("other.patch", "--- a/mm/slub.c\n+++ b/mm/slub.c\n@@ -1 +1 @@\n-x\n+y\n");
  auto o = ChangesInTree(other, s.Path("tree"), "x");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message().find("changes b/mm/slub.c, which is not in"), std::string::npos) << o.error().message();
}

}  // namespace
}  // namespace graft

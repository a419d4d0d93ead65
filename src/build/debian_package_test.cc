// Finding the package that installed a file: dpkg knows a merged-/usr file by
// the one name its package shipped, and `dpkg -S` lines name packages with or
// without an architecture.
#include "build/debian_package.h"

#include <gtest/gtest.h>

namespace graft::build {
namespace {

TEST(MergedUsrNames, BothNamesOfAMergedDirectory) {
  // Debian 12's libbz2 is registered as /lib/..., the path ld.so maps is /usr/lib/...
  EXPECT_EQ(MergedUsrNames("/usr/lib/x86_64-linux-gnu/libbz2.so.1.0.4"),
            (std::vector<std::string>{"/usr/lib/x86_64-linux-gnu/libbz2.so.1.0.4",
                                      "/lib/x86_64-linux-gnu/libbz2.so.1.0.4"}));
  EXPECT_EQ(MergedUsrNames("/bin/bzip2"), (std::vector<std::string>{"/bin/bzip2", "/usr/bin/bzip2"}));
  EXPECT_EQ(MergedUsrNames("/usr/sbin/sshd"), (std::vector<std::string>{"/usr/sbin/sshd", "/sbin/sshd"}));
  EXPECT_EQ(MergedUsrNames("/lib64/ld-linux-x86-64.so.2"),
            (std::vector<std::string>{"/lib64/ld-linux-x86-64.so.2", "/usr/lib64/ld-linux-x86-64.so.2"}));
}

TEST(MergedUsrNames, OtherDirectoriesHaveOneName) {
  EXPECT_EQ(MergedUsrNames("/usr/share/doc/x"), (std::vector<std::string>{"/usr/share/doc/x"}));
  EXPECT_EQ(MergedUsrNames("/usr/libexec/x"), (std::vector<std::string>{"/usr/libexec/x"}));
  EXPECT_EQ(MergedUsrNames("/library/x"), (std::vector<std::string>{"/library/x"}));
  EXPECT_EQ(MergedUsrNames("/opt/lib/x"), (std::vector<std::string>{"/opt/lib/x"}));
}

TEST(DpkgSearchOwner, PackageWithAndWithoutArchitecture) {
  EXPECT_EQ(DpkgSearchOwner("zlib1g:amd64: /lib/x86_64-linux-gnu/libz.so.1.2.13"), "zlib1g:amd64");
  // Not Multi-Arch: same, so no architecture; cutting at the second ':' kept the path.
  EXPECT_EQ(DpkgSearchOwner("bzip2: /bin/bzip2"), "bzip2");
  EXPECT_EQ(DpkgSearchOwner("libc6:amd64, libc6:i386: /usr/share/doc/libc6"), "libc6:amd64");
}

TEST(DpkgSearchOwner, DiversionsAndNoiseNameNone) {
  EXPECT_EQ(DpkgSearchOwner("diversion by dash from: /bin/sh"), "");
  EXPECT_EQ(DpkgSearchOwner("diversion by dash to: /bin/sh.distrib"), "");
  EXPECT_EQ(DpkgSearchOwner(""), "");
  EXPECT_EQ(DpkgSearchOwner("dpkg-query: no path found matching pattern /x"), "");
}

}  // namespace
}  // namespace graft::build

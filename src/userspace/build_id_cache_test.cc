// The build-id cache against real processes: one parse and one gadget scan
// per file however many processes map it, the same parsed object for the same
// build-id, and an apply to a second process of a program that reads nothing
// the first one did not already read.
#include "userspace/build_id_cache.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "base/testing.h"
#include "bundle/bundle.h"
#include "elf/build_id.h"
#include "userspace/bundle_builder.h"
#include "userspace/live_patcher.h"
#include "userspace/process_image.h"

extern char** environ;

namespace graft::userspace {
namespace {

using graft::testing::Scratch;

// A running program, killed at the end. With `line`, the constructor
// returns once it printed its first line; else once its C library is mapped.
class Running {
 public:
  explicit Running(const std::string& path, const std::string& arg = "", bool line = true) {
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    std::vector<char*> argv = {const_cast<char*>(path.c_str())};
    if (!arg.empty()) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, path.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    char c;
    while (line && pid_ && read(fds[0], &c, 1) == 1 && c != '\n') {
    }
    close(fds[0]);
    for (int i = 0; !line && pid_ && i < 500 && LibcPath(pid_).empty(); i++) usleep(10000);
  }
  ~Running() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

  static std::string LibcPath(pid_t pid) {
    auto maps = process::ReadMaps(pid);
    if (!maps.ok()) return "";
    for (const auto& m : *maps)
      if (m.path.find("libc.so") != std::string::npos) return m.path;
    return "";
  }

 private:
  pid_t pid_ = 0;
};

const char* kProgram = R"(
#include <stdio.h>
#include <unistd.h>
volatile long total;
__attribute__((noinline)) long compute(long x) { return x * 2; }
int main(void) {
  printf("ready\n");
  fflush(stdout);
  for (;;) { total += compute(21); usleep(20000); }
}
)";

TEST(BuildIdCache, OneParseAndOneGadgetScanForEveryProcessOfAProgram) {
  // Four processes of one program: four address layouts, one C library.
  Running a("/bin/sleep", "60", false), b("/bin/sleep", "60", false);
  Running c("/bin/sleep", "60", false), d("/bin/sleep", "60", false);
  ASSERT_GT(a.pid(), 0);
  std::string libc = Running::LibcPath(a.pid());
  ASSERT_FALSE(libc.empty());
  auto note = elf::ReadBuildId(libc);
  ASSERT_TRUE(note.ok() && *note && !(*note)->empty());
  const std::string* id = &**note;

  BuildIdCache cache;
  process::SyscallGadgets first{};
  for (pid_t pid : {a.pid(), b.pid(), c.pid(), d.pid()}) {
    auto im = ProcessImage::Read(pid, &cache);
    ASSERT_TRUE(im.ok()) << im.error().message();
    auto found = im->FindByBuildId(*id);
    ASSERT_TRUE(found.ok() && found->has_value()) << "process " << pid << " maps no " << libc;
    auto g = im->FindSyscallGadgets();
    ASSERT_TRUE(g.ok()) << g.error().message();
    // What the remembered offsets give is what a scan of this process finds.
    auto scanned = process::FindSyscallGadgets(pid, im->maps());
    ASSERT_TRUE(scanned.ok());
    EXPECT_EQ(g->syscall_ret, scanned->syscall_ret);
    EXPECT_EQ(g->sigreturn, scanned->sigreturn);
    if (pid == a.pid()) first = *g;
  }
  EXPECT_NE(first.syscall_ret, 0u);
  BuildIdCache::Counters n = cache.counters();
  EXPECT_EQ(n.files_parsed, 1u);  // the C library, once; the others' notes told them apart
  EXPECT_EQ(n.file_hits, 3u);
  EXPECT_EQ(n.gadget_scans, 1u);
  EXPECT_EQ(n.gadget_hits, 3u);

  auto x = cache.Object(*id, libc, "");
  auto y = cache.Object(*id, "/nonexistent", "");  // not read again: the build-id names it
  ASSERT_TRUE(x.ok() && y.ok());
  EXPECT_EQ(x->get(), y->get());
}

TEST(BuildIdCache, BoundedInBytesLeastRecentlyUsedFirst) {
  Running a("/bin/sleep", "60", false);
  auto maps = process::ReadMaps(a.pid());
  ASSERT_TRUE(maps.ok());
  std::vector<std::pair<std::string, std::string>> files;  // build-id, path
  for (const auto& m : *maps) {
    if (m.path.empty() || m.path[0] != '/') continue;
    auto id = elf::ReadBuildId(m.path);
    if (id.ok() && *id && !(*id)->empty() && (files.empty() || files.back().second != m.path))
      files.push_back({**id, m.path});
  }
  ASSERT_GE(files.size(), 2u);
  BuildIdCache cache(1);  // room for the newest entry only
  auto held = cache.Object(files[0].first, files[0].second, "");
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(cache.Object(files[1].first, files[1].second, "").ok());
  EXPECT_EQ(cache.counters().evicted, 1u);
  EXPECT_FALSE((*held)->sections().empty());  // still alive with its user
  ASSERT_TRUE(cache.Object(files[0].first, files[0].second, "").ok());
  EXPECT_EQ(cache.counters().files_parsed, 3u);  // evicted, so parsed again
}

TEST(BuildIdCache, FileWithoutBuildIdIsNeverKept) {
  Scratch s;
  s.Write("p.c", "int main(void) { return 0; }\n");
  std::string bin = s.Compile("p.c", "p", "-O2 -Wl,--build-id=none");
  auto id = elf::ReadBuildId(bin);
  ASSERT_TRUE(id.ok() && *id);
  EXPECT_EQ(**id, "");
  s.Write("text", "not an ELF file\n");
  auto text = elf::ReadBuildId(s.Path("text"));
  ASSERT_TRUE(text.ok());
  EXPECT_FALSE(*text);
  BuildIdCache cache;
  ASSERT_TRUE(cache.Object("", bin, "").ok());
  ASSERT_TRUE(cache.Object("", bin, "").ok());
  EXPECT_EQ(cache.counters().files_parsed, 2u);
  EXPECT_EQ(cache.bytes(), 0u);
}

// graftd forks a detached worker per apply while its other thread may be in
// the cache: the worker must find the cache usable, never a lock held by a
// thread that does not exist in it.
TEST(BuildIdCache, ForkWhileAnotherThreadUsesItLeavesTheChildAUsableCache) {
  Running a("/bin/sleep", "60", false);
  std::string libc = Running::LibcPath(a.pid());
  auto note = elf::ReadBuildId(libc);
  ASSERT_TRUE(note.ok() && *note && !(*note)->empty());
  const std::string* id = &**note;
  BuildIdCache cache;
  ASSERT_TRUE(cache.Object(*id, libc, "").ok());
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop) (void)cache.Object(*id, libc, "");
  });
  int stuck = 0;
  for (int i = 0; i < 200 && !stuck; i++) {
    pid_t child = fork();
    if (child == 0) _exit(cache.Object(*id, libc, "").ok() ? 0 : 1);
    int status = 0;
    for (int wait_ms = 0; waitpid(child, &status, WNOHANG) == 0; wait_ms++) {
      if (wait_ms == 2000) {
        stuck++;
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        break;
      }
      usleep(1000);
    }
  }
  stop = true;
  busy.join();
  EXPECT_EQ(stuck, 0) << "a forked child waited for the cache's lock";
}

// The apply itself: the second process of a program costs no parse of any
// file and no scan of its C library.
TEST(BuildIdCache, SecondApplyReadsNoFileAgain) {
  if (geteuid() != 0) GTEST_SKIP() << "applying needs root (/run/graft locks, ptrace)";
  Scratch s;
  s.Write("prog.c", kProgram);
  std::string prog = s.Compile("prog.c", "prog", "-O2 -g");
  s.Compile("prog.c", "prog.orig.o", "-O2 -g -c -ffunction-sections -fdata-sections");
  std::string fixed = kProgram;
  fixed.replace(fixed.find("x * 2"), 5, "x * 3");
  s.Write("prog.c", fixed);
  s.Compile("prog.c", "prog.fixed.o", "-O2 -g -c -ffunction-sections -fdata-sections");
  BundleRequest req;
  req.original_objects = {s.Path("prog.orig.o")};
  req.patched_objects = {s.Path("prog.fixed.o")};
  req.target = prog;
  req.output = s.Path("fix.graft");
  auto built = BuildBundle(req);
  ASSERT_TRUE(built.ok()) << built.error().message();
  auto b = bundle::ReadFile(req.output);
  ASSERT_TRUE(b.ok()) << b.error().message();

  Running one(prog), two(prog);
  BuildIdCache cache;
  PatchOptions opt;
  opt.cache = &cache;
  auto r1 = ApplyToProcess(*b, one.pid(), opt);
  ASSERT_TRUE(r1.ok()) << r1.error().message();
  BuildIdCache::Counters after_first = cache.counters();
  EXPECT_GE(after_first.files_parsed, 2u);  // the program and its C library at least
  EXPECT_EQ(after_first.gadget_scans, 1u);
  auto r2 = ApplyToProcess(*b, two.pid(), opt);
  ASSERT_TRUE(r2.ok()) << r2.error().message();
  BuildIdCache::Counters after_second = cache.counters();
  EXPECT_EQ(after_second.files_parsed, after_first.files_parsed);
  EXPECT_EQ(after_second.gadget_scans, 1u);
  EXPECT_GT(after_second.file_hits, after_first.file_hits);
}

}  // namespace
}  // namespace graft::userspace

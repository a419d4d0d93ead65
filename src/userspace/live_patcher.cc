// A patch goes in three short stops of the target, never one long one:
//   1. map:    a memfd "graft:ID" is created and mapped (r-x code + rw- data)
//              by self-restoring injected syscalls; its contents were written
//              by graft through /proc/PID/fd, never through a W+X page.
//   2. switch: with every thread stopped, check that the old code is what the
//              bundle expects (run-pre on memory) and that no thread is inside
//              or returns into a replaced function, then write all jumps.
//              Busy: resume, back off, retry; give up after the timeout.
//   3. unmap:  only when giving up (or on revert, after the jumps are gone).
#include "userspace/live_patcher.h"

#include <algorithm>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <cstring>
#include <thread>

#include "arch/arch.h"
#include "base/interrupt.h"
#include "process/remote_syscall.h"
#include "process/stack_unwinder.h"
#include "process/stopped_process.h"
#include "userspace/patch_linker.h"
#include "userspace/process_image.h"
#include "userspace/run_until_safe.h"
#include "userspace/suspended_stacks.h"

namespace graft::userspace {
namespace {

using Clock = std::chrono::steady_clock;

struct BusyRange {
  uint64_t lo, hi;
  std::string what;
};

constexpr size_t kUnreliable = ~size_t(0);

struct BusyThread {
  pid_t tid = 0;
  size_t frame = 0;      // the innermost busy frame; kUnreliable: the stack could not be read
  size_t outermost = 0;  // the outermost busy frame: running out of it makes the thread clear
  std::string why;       // empty: nobody is busy
  process::ThreadStack stack;
};

// ThreadStackCheck: no thread's PC or return address may lie in a range, and
// a stack that could not be unwound to its outermost frame counts as busy
// (it might return into anything), as the kernel's transition code treats an
// unreliable stack: "not yet", never "nothing found". Returns every busy
// thread, in thread order.
Result<std::vector<BusyThread>> FindBusyThreads(process::StoppedProcess& proc, process::StackUnwinder& unwinder,
                                                const std::vector<BusyRange>& ranges) {
  std::vector<pid_t> tids;
  for (auto& t : proc.threads()) tids.push_back(t.tid);
  GRAFT_ASSIGN(auto stacks, unwinder.Unwind(tids));
  std::vector<BusyThread> out;
  for (process::ThreadStack& st : stacks) {
    BusyThread bt;
    bt.tid = st.tid;
    for (size_t i = 0; i < st.pcs.size(); i++)
      for (const BusyRange& r : ranges)
        if (st.pcs[i] >= r.lo && st.pcs[i] < r.hi) {
          if (bt.why.empty()) {
            bt.frame = i;
            bt.why = fmt::format("thread {} {} {} (pc {:#x}, frame {})", st.tid,
                                 i == 0 ? "is running in" : "returns into", r.what, st.pcs[i], i);
          }
          bt.outermost = i;
        }
    if (bt.why.empty() && !st.complete) {
      bt.frame = bt.outermost = kUnreliable;
      bt.why = fmt::format("thread {}'s stack cannot be read reliably past frame {} ({}), so it may be inside a "
                           "function being switched", st.tid, st.pcs.size(), st.error);
    }
    if (bt.why.empty()) continue;
    bt.stack = std::move(st);
    out.push_back(std::move(bt));
  }
  // A definite "inside" names the function; an unreliable stack comes after.
  std::stable_sort(out.begin(), out.end(), [](const BusyThread& a, const BusyThread& b) {
    return a.frame != kUnreliable && b.frame == kUnreliable;
  });
  return out;
}

Result<BusyThread> FindBusyThread(process::StoppedProcess& proc, process::StackUnwinder& unwinder,
                                  const std::vector<BusyRange>& ranges) {
  GRAFT_ASSIGN(auto busy, FindBusyThreads(proc, unwinder, ranges));
  if (busy.empty()) return BusyThread{};
  return std::move(busy[0]);
}

Result<long> Check(Result<long> r, const char* what) {
  if (!r.ok()) return r;
  if (*r < 0 && *r > -4096) return Err("{} failed in the target: {}", what, std::strerror(-*r));
  return r;
}

// Holds a per-process lock so two graft runs never work on one process at once.
class ProcessLock {
 public:
  static Result<ProcessLock> Take(pid_t pid) {
    mkdir("/run/graft", 0700);
    std::string path = fmt::format("/run/graft/{}.lock", pid);
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Err("cannot create lock {}: {}", path, std::strerror(errno));
    if (flock(fd, LOCK_EX) != 0) return Err("cannot lock {}: {}", path, std::strerror(errno));
    return ProcessLock(fd);
  }
  ProcessLock(ProcessLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~ProcessLock() {
    if (fd_ >= 0) close(fd_);
  }

 private:
  explicit ProcessLock(int fd) : fd_(fd) {}
  int fd_;
};

// Mapping and unmapping memory no thread runs needs only one thread stopped;
// the others keep running.
Status UnmapInTarget(pid_t pid, const process::SyscallGadgets& g, uint64_t start, uint64_t size) {
  process::StoppedProcess proc(pid);
  GRAFT_TRY(proc.StopOne());
  GRAFT_ASSIGN(auto rs, process::RemoteSyscall::Prepare(proc, proc.threads()[0].tid, g));
  GRAFT_TRY(Check(rs.Call(SYS_munmap, {start, size}), "munmap"));
  return OkStatus();
}

// Stage 1: create and map the memfd holding the linked patch.
Status MapPatch(pid_t pid, const process::SyscallGadgets& g, const LinkedPatch& lp) {
  process::StoppedProcess proc(pid);
  GRAFT_TRY(proc.StopOne());
  GRAFT_ASSIGN(auto rs, process::RemoteSyscall::Prepare(proc, proc.threads()[0].tid, g));
  std::string name = "graft:" + lp.record.id;
  GRAFT_ASSIGN(uint64_t name_at, rs.PushScratch(std::vector<uint8_t>(name.begin(), name.end() + 1)));
  GRAFT_ASSIGN(long fd, Check(rs.Call(SYS_memfd_create, {name_at, MFD_CLOEXEC}), "memfd_create"));
  // Fill it from our side through the target's descriptor.
  Status filled = [&]() -> Status {
    int ours = open(fmt::format("/proc/{}/fd/{}", pid, fd).c_str(), O_RDWR | O_CLOEXEC);
    if (ours < 0) return Err("cannot open the target's memfd: {}", std::strerror(errno));
    bool ok = ftruncate(ours, lp.image.size()) == 0 &&
              pwrite(ours, lp.image.data(), lp.image.size(), 0) == static_cast<ssize_t>(lp.image.size());
    close(ours);
    if (!ok) return Err("cannot fill the patch memfd: {}", std::strerror(errno));
    return OkStatus();
  }();
  Status mapped = filled;
  if (filled.ok()) {
    auto code = Check(rs.Call(SYS_mmap, {lp.base, lp.code_size, PROT_READ | PROT_EXEC,
                                         MAP_PRIVATE | MAP_FIXED_NOREPLACE, uint64_t(fd), 0}),
                      "mmap (code)");
    if (!code.ok()) {
      mapped = code.error();
    } else if (static_cast<uint64_t>(*code) != lp.base) {
      (void)rs.Call(SYS_munmap, {uint64_t(*code), lp.code_size});
      mapped = Err("the kernel placed the patch at {:#x} instead of {:#x}", *code, lp.base);
    } else if (lp.data_size) {
      auto data = Check(rs.Call(SYS_mmap, {lp.base + lp.code_size, lp.data_size, PROT_READ | PROT_WRITE,
                                           MAP_PRIVATE | MAP_FIXED_NOREPLACE, uint64_t(fd), lp.code_size}),
                        "mmap (data)");
      if (!data.ok()) {
        (void)rs.Call(SYS_munmap, {lp.base, lp.code_size});
        mapped = data.error();
      }
    }
  }
  (void)rs.Call(SYS_close, {uint64_t(fd)});
  return mapped;
}

// The unwinder's registry of frame tables lives in libgcc_s; a thread stopped
// inside it may hold the lock registration takes, so such a moment is skipped.
bool InUnwinder(pid_t pid, pid_t tid) {
  user_regs_struct r;
  if (ptrace(PTRACE_GETREGS, tid, nullptr, &r) != 0) return true;
  auto maps = process::ReadMaps(pid);
  if (!maps.ok()) return true;
  for (const auto& m : *maps)
    if (r.rip >= m.start && r.rip < m.end) return m.path.find("libgcc_s") != std::string::npos;
  return false;
}

// Calls libgcc's `function` in the process with one thread stopped (the
// others keep running, so a lock one of them holds is released), retrying
// while that thread happens to be inside the unwinder.
Status CallUnwinder(pid_t pid, const process::SyscallGadgets& g, uint64_t function, std::vector<uint64_t> args) {
  for (int attempt = 0; attempt < 50; attempt++) {
    process::StoppedProcess proc(pid);
    GRAFT_TRY(proc.StopOne());
    pid_t tid = proc.threads()[0].tid;
    if (InUnwinder(pid, tid)) {
      proc.Resume();
      usleep(10000);
      continue;
    }
    GRAFT_ASSIGN(auto rs, process::RemoteSyscall::Prepare(proc, tid, g));
    return rs.CallFunction(function, args);
  }
  return Err("process {}: its main thread stayed inside the C++ unwinder; try again", pid);
}

// Makes the new code's frame tables known to the process's unwinder, so that
// C++ exceptions and forced unwinds pass through patched functions. A process
// without libgcc_s loaded has no such unwinder and needs nothing. With every
// thread stopped and none anywhere inside libgcc_s (whole stacks, not just the
// pc), nobody holds the registry's lock, and registering takes no other lock
// (no allocation), so the call cannot block on a stopped thread.
std::vector<BusyRange> LibgccCode(ProcessImage& image) {
  std::vector<BusyRange> out;
  for (const auto& m : image.maps())
    if (m.exec() && m.path.find("libgcc_s") != std::string::npos) out.push_back({m.start, m.end, "libgcc_s"});
  return out;
}

// Stops every thread until none has a frame inside libgcc_s, then runs
// `work` with them all still stopped.
Status WithNoThreadInUnwinder(pid_t pid, ProcessImage& image, process::StackUnwinder& unwinder,
                              const std::function<Status(process::StoppedProcess&)>& work) {
  std::vector<BusyRange> libgcc = LibgccCode(image);
  std::string why;
  for (int attempt = 0; attempt < 50; attempt++) {
    process::StoppedProcess proc(pid);
    GRAFT_TRY(proc.Stop());
    GRAFT_ASSIGN(BusyThread busy, FindBusyThread(proc, unwinder, libgcc));
    if (busy.why.empty()) return work(proc);
    why = busy.why;
    proc.Resume();
    usleep(10000);
  }
  return Err("process {}: a thread stayed inside the C++ unwinder ({}); try again", pid, why);
}

Status RegisterUnwindTables(pid_t pid, const process::SyscallGadgets& g, ProcessImage& image,
                            process::StackUnwinder& unwinder, const PatchRecord& rec) {
  if (!rec.eh_frame) return OkStatus();
  auto fn = image.LookupDynamic("__register_frame_info");
  if (!fn.ok()) return OkStatus();
  Status st = WithNoThreadInUnwinder(pid, image, unwinder, [&](process::StoppedProcess& proc) -> Status {
    GRAFT_ASSIGN(auto rs, process::RemoteSyscall::Prepare(proc, proc.threads()[0].tid, g));
    return rs.CallFunction(*fn, {rec.eh_frame, rec.unwind_object});
  });
  if (!st.ok()) return st.error().context("registering the patch's unwind tables");
  return OkStatus();
}

// The reverse, before the code is unmapped. The registration storage is zero
// until __register_frame_info ran, which tells whether it did (also after an
// apply interrupted by graft's death); deregistering tables never registered
// would abort the process.
Status DeregisterUnwindTables(pid_t pid, const process::SyscallGadgets& g, ProcessImage& image,
                              process::StackUnwinder& unwinder, const PatchRecord& rec) {
  if (!rec.eh_frame) return OkStatus();
  GRAFT_ASSIGN(process::ProcessMemory mem, process::ProcessMemory::Open(pid));
  GRAFT_ASSIGN(auto storage, mem.Read(rec.unwind_object, 64));
  if (std::all_of(storage.begin(), storage.end(), [](uint8_t b) { return b == 0; })) return OkStatus();
  GRAFT_ASSIGN(uint64_t fn, image.LookupDynamic("__deregister_frame_info"));
  // It may free memory, so it runs with the other threads going (one of them
  // may hold a malloc lock); first make sure no thread is deep in libgcc.
  GRAFT_TRY(WithNoThreadInUnwinder(pid, image, unwinder, [](process::StoppedProcess&) { return OkStatus(); }));
  Status st = CallUnwinder(pid, g, fn, {rec.eh_frame});
  if (!st.ok()) return st.error().context("unregistering the patch's unwind tables");
  return OkStatus();
}

// One code write of a switch: `now` goes in, `before` is what it replaces.
struct SiteWrite {
  uint64_t site;
  std::vector<uint8_t> now, before;
};

// Writes every jump (or original bytes) while the threads are stopped; a
// failed write puts back the ones already written: all or nothing.
Status WriteAllOrNothing(const process::ProcessMemory& mem, const std::vector<SiteWrite>& writes) {
  for (size_t i = 0; i < writes.size(); i++) {
    Status w = mem.Write(writes[i].site, writes[i].now);
    if (!w.ok()) {
      for (size_t j = 0; j < i; j++) (void)mem.Write(writes[j].site, writes[j].before);
      return w;
    }
  }
  return OkStatus();
}

// Removes a patch's memory once no jump leads into it: its unwind tables
// first (they point into it), then the mapping.
Status RemovePatchMemory(pid_t pid, const process::SyscallGadgets& g, ProcessImage& image,
                         process::StackUnwinder& unwinder, const PatchRecord& rec) {
  GRAFT_TRY(DeregisterUnwindTables(pid, g, image, unwinder, rec));
  return UnmapInTarget(pid, g, rec.code_start, rec.code_size + rec.data_size);
}

struct SwitchPlan {
  std::vector<BusyRange> busy;
  // Where busy threads can be run out of their functions (run_until_safe.h);
  // count 0: not here, retry at other moments instead.
  TrapArea traps;
  std::function<Status(process::StoppedProcess&)> verify;  // first thing in every stop
  std::function<Status(process::StoppedProcess&)> commit;  // once nobody is busy
};

// The consistency loop shared by apply and revert: stop every thread, verify,
// and commit once no thread runs in or returns into a busy range; a hot leaf
// is stepped out, otherwise resume and retry with backoff until the timeout.
// Returns why it gave up, or "" when committed (or, dry run, when it could).
Result<std::string> SwitchWhenIdle(pid_t pid, process::StackUnwinder& unwinder, const process::ProcessMemory& mem,
                                   const SwitchPlan& plan, const PatchOptions& opt, PatchOutcome& out) {
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(opt.timeout_seconds));
  std::chrono::microseconds backoff(500);
  for (;;) {
    out.attempts++;
    auto t0 = Clock::now();
    std::string why;
    Status st = [&]() -> Status {
      process::StoppedProcess proc(pid);
      GRAFT_TRY(proc.Stop());
      GRAFT_TRY(plan.verify(proc));
      ReturnTrapper trapper(proc, mem, arch::HostArch(), plan.traps);
      // Busy threads are run out of their functions while the others go on;
      // each parks at its return address. One attempt runs out for at most a
      // second, then everything is put back and the next attempt starts over.
      auto run_out_until = std::min(deadline, Clock::now() + std::chrono::seconds(1));
      for (;;) {
        GRAFT_ASSIGN(auto busy, FindBusyThreads(proc, unwinder, plan.busy));
        if (busy.empty() && opt.check_suspended) {
          std::vector<CodeRange> code;
          for (const BusyRange& r : plan.busy) code.push_back({r.lo, r.hi, r.what});
          bool skipped = false;
          GRAFT_ASSIGN(auto saved, FindSavedReturn(proc, mem, code, arch::HostArch(), &skipped));
          if (skipped && opt.progress)
            opt.progress(fmt::format("process {}: more than {} MiB of anonymous memory; suspended coroutine "
                                     "stacks were not looked for", pid, kSuspendedScanBudget >> 20));
          if (saved) {
            why = fmt::format("a return address into {} ({:#x}) is kept at {:#x} in {}: a suspended coroutine's "
                              "stack, or a stale copy (--no-suspended-check skips this look)", saved->what,
                              saved->value, saved->where, saved->mapping);
            break;
          }
        }
        if (busy.empty()) {
          why.clear();
          if (opt.dry_run) return OkStatus();
          return plan.commit(proc);
        }
        why = busy[0].why;
        if (opt.dry_run || !plan.traps.count || Clock::now() >= run_out_until) break;
        if (opt.cancelled && opt.cancelled()) break;
        bool armed = true;
        for (const BusyThread& bt : busy) trapper.Reserve(bt.stack);
        for (const BusyThread& bt : busy) {
          if (trapper.IsArmed(bt.tid)) continue;
          Status a = bt.frame == kUnreliable ? Status(Err("its stack cannot be read to the end"))
                                             : trapper.Arm(bt.stack, bt.outermost);
          if (!a.ok()) {
            why = bt.tid == busy[0].tid
                      ? fmt::format("{}; it cannot be run out of it: {}", bt.why, a.error().message())
                      : fmt::format("{}; also {}, and it cannot be run out: {}", busy[0].why, bt.why,
                                    a.error().message());
            armed = false;
            break;
          }
        }
        if (!armed) break;
        GRAFT_TRY(trapper.Run(run_out_until));
        GRAFT_TRY(plan.verify(proc));
      }
      return trapper.DisarmAll();
    }();
    out.pause_ms = std::max(out.pause_ms, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!st.ok()) return st.error();
    // A check retries like an apply (it only leaves out the writes): a
    // thread caught once in a replaced function says nothing about whether
    // the apply would find a moment within --timeout.
    if (why.empty() || Clock::now() + backoff > deadline) return why;
    if (opt.cancelled && opt.cancelled())
      return Err("process {}: interrupted while waiting ({}); nothing was changed", pid, why)
          .WithKind(ErrorKind::kInterrupted);
    if (opt.progress) opt.progress(fmt::format("process {}: busy ({}); retrying", pid, why));
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::microseconds(100000));
  }
}

}  // namespace

static volatile sig_atomic_t g_worker = 0;  // the child RunDetached waits for

Result<std::string> RunDetached(const std::function<Result<std::string>()>& work) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Err("pipe: {}", std::strerror(errno));
  pid_t child = fork();
  if (child < 0) return Err("fork: {}", std::strerror(errno));
  if (child == 0) {
    close(fds[0]);
    setsid();
    signal(SIGPIPE, SIG_IGN);
    CatchInterrupts();
    auto r = work();
    std::string msg = r.ok() ? "O" + *r : std::string("E") + static_cast<char>(r.error().kind()) + r.error().message();
    (void)!write(fds[1], msg.data(), msg.size());
    _exit(0);
  }
  close(fds[1]);
  // The child is in its own session, so a terminal's ^C reaches only us:
  // pass the request on and keep waiting for the child's answer.
  g_worker = child;
  struct sigaction sa = {}, old[3];
  sa.sa_handler = [](int sig) {
    NoteInterrupt(sig);
    if (g_worker > 0) kill(g_worker, sig);
  };
  sigemptyset(&sa.sa_mask);
  const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
  for (int i = 0; i < 3; i++) sigaction(sigs[i], &sa, &old[i]);
  std::string msg;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    msg.append(buf, n);
  }
  close(fds[0]);
  while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
  }
  g_worker = 0;
  for (int i = 0; i < 3; i++) sigaction(sigs[i], &old[i], nullptr);
  if (msg.empty()) return Err("the graft worker died without a result");
  if (msg[0] == 'E' && msg.size() >= 2) return Error(msg.substr(2), static_cast<ErrorKind>(msg[1]));
  return msg.substr(1);
}

Result<PatchOutcome> ApplyToProcess(const bundle::Bundle& b, pid_t pid, const PatchOptions& opt) {
  GRAFT_ASSIGN(ProcessLock lock, ProcessLock::Take(pid));
  GRAFT_ASSIGN(ProcessImage image, ProcessImage::Read(pid, opt.cache));
  GRAFT_ASSIGN(auto target, image.FindByBuildId(b.target_build_id));
  if (!target)
    return Err("process {} ({}) does not run {} with build-id {}; the patch is not for it", pid,
               process::ProcessName(pid), b.target_name, b.target_build_id);
  GRAFT_ASSIGN(auto applied, ReadAppliedPatches(pid));
  // Patch levels: the active patches this bundle supersedes go out in the
  // same stop that brings it in.
  std::vector<const PatchRecord*> superseded;
  for (const AppliedPatch& ap : applied) {
    auto names = [](const std::vector<std::string>& v, const std::string& id) {
      return std::find(v.begin(), v.end(), id) != v.end();
    };
    if (names(ap.record.supersedes, b.id))
      return Err("process {} runs patch {}, which supersedes {}; an older level cannot go back in (revert {} "
                 "first)", pid, ap.record.id, b.id, ap.record.id);
    if (names(b.supersedes, ap.record.id)) {
      if (!ap.active)
        return Err("process {} holds patch {} in state {}; run `graft revert {} --pid {}` first", pid,
                   ap.record.id, ap.state, ap.record.id, pid);
      superseded.push_back(&ap.record);
      continue;
    }
    if (ap.record.id != b.id) continue;
    if (ap.active) return Err("patch {} is already applied to process {}", b.id, pid);
    return Err("process {} holds an interrupted, inactive copy of patch {}; run `graft revert {} --pid {}` "
               "to clean it up first", pid, b.id, b.id, pid);
  }
  GRAFT_ASSIGN(auto gadgets, image.FindSyscallGadgets());
  GRAFT_ASSIGN(LinkedPatch lp, LinkPatch(b, image, *target));
  GRAFT_ASSIGN(auto tables, UnwindTablesOf(pid, applied));
  GRAFT_ASSIGN(auto unwinder, process::StackUnwinder::Create(pid, std::move(tables)));
  GRAFT_ASSIGN(process::ProcessMemory mem, process::ProcessMemory::Open(pid));

  std::vector<BusyRange> busy;
  for (const PatchedFunction& f : lp.record.functions) busy.push_back({f.address, f.address + f.size, f.name});
  // The superseded patches' code is removed after the switch: nobody may be in it.
  for (const PatchRecord* old : superseded)
    busy.push_back({old->code_start, old->code_start + old->code_size, "patch " + old->id + "'s code"});
  // What a superseded patch wrote at a site, if anything.
  auto superseded_jump = [&](uint64_t site) -> const PatchedFunction* {
    for (const PatchRecord* old : superseded)
      for (const PatchedFunction& g : old->functions)
        if (g.site == site) return &g;
    return nullptr;
  };
  // Functions a superseded patch replaced and the new level does not: they
  // get their original code back in the same switch.
  std::vector<std::pair<const PatchedFunction*, const PatchRecord*>> dropped;
  for (const PatchRecord* old : superseded)
    for (const PatchedFunction& g : old->functions)
      if (std::none_of(lp.record.functions.begin(), lp.record.functions.end(),
                       [&](const PatchedFunction& f) { return f.site == g.site; }))
        dropped.push_back({&g, old});

  PatchOutcome out;
  out.pid = pid;
  auto unmap = [&] {
    if (opt.dry_run || !process::ProcessExists(pid)) return;
    // Tables still registered point into the mapping: then it stays.
    if (DeregisterUnwindTables(pid, gadgets, image, *unwinder, lp.record).ok())
      (void)UnmapInTarget(pid, gadgets, lp.base, lp.code_size + lp.data_size);
  };
  if (!opt.dry_run) {
    if (opt.progress) opt.progress(fmt::format("process {}: mapping patch at {:#x}", pid, lp.base));
    GRAFT_TRY(MapPatch(pid, gadgets, lp));
    if (Status st = RegisterUnwindTables(pid, gadgets, image, *unwinder, lp.record); !st.ok()) {
      // A registration still under way will point into the mapping: keep it.
      if (st.error().kind() == ErrorKind::kPartial)
        return Err("process {}: {}; nothing was switched, and patch {}'s memory stays mapped (inactive): run "
                   "`graft revert {} --pid {}` to remove it", pid, st.error().message(), b.id, b.id, pid)
            .WithKind(ErrorKind::kPartial);
      unmap();
      return st.error();
    }
  }
  SwitchPlan plan;
  plan.busy = busy;
  if (!opt.dry_run && LibgccCode(image).empty())
    plan.traps = {lp.record.trap_code, lp.record.trap_data, lp.record.trap_count};
  // Run-pre on memory: the code that runs must be the code the bundle was built for.
  plan.verify = [&](process::StoppedProcess&) -> Status {
    for (size_t i = 0; i < b.functions.size(); i++) {
      const PatchedFunction& f = lp.record.functions[i];
      GRAFT_ASSIGN(auto now, mem.Read(f.address, f.size));
      // Under a superseded patch's jump lies the original code.
      if (const PatchedFunction* g = superseded_jump(f.site)) {
        size_t at = g->site - f.address;
        if (at + g->jump.size() <= now.size() && std::equal(g->jump.begin(), g->jump.end(), now.begin() + at))
          std::copy(g->original.begin(), g->original.end(), now.begin() + at);
      }
      if (now == b.functions[i].expected) continue;
      for (const AppliedPatch& ap : applied)
        for (const PatchedFunction& g : ap.record.functions)
          if (g.address == f.address)
            return Err("function {} in process {} is already replaced by patch {}; revert it first", f.name, pid,
                       ap.record.id).WithKind(ErrorKind::kTargetChanged);
      return Err("run-pre failed in process {}: function {} at {:#x} is not the code the patch was built for",
                 pid, f.name, f.address).WithKind(ErrorKind::kTargetChanged);
    }
    // A function the new level drops must still hold the old level's jump.
    for (auto [g, old] : dropped) {
      GRAFT_ASSIGN(auto now, mem.Read(g->site, g->jump.size()));
      if (now != g->jump)
        return Err("function {} in process {} no longer holds patch {}'s jump; refusing to supersede it", g->name,
                   pid, old->id).WithKind(ErrorKind::kTargetChanged);
    }
    return OkStatus();
  };
  plan.commit = [&](process::StoppedProcess&) {
    std::vector<SiteWrite> writes;
    for (const PatchedFunction& f : lp.record.functions) {
      const PatchedFunction* g = superseded_jump(f.site);
      writes.push_back({f.site, f.jump, g ? g->jump : f.original});
    }
    for (auto [g, old] : dropped) writes.push_back({g->site, g->original, g->jump});
    return WriteAllOrNothing(mem, writes);
  };
  auto why = SwitchWhenIdle(pid, *unwinder, mem, plan, opt, out);
  if (!why.ok()) {
    unmap();
    return why.error();
  }
  if (!why->empty()) {
    if (opt.dry_run) return Err("process {}: would wait: {}", pid, *why);
    unmap();
    return Err("process {}: gave up after {} attempts in {:.1f} s: {}; nothing was changed. Try again "
               "when the process is less busy, or raise --timeout", pid, out.attempts, opt.timeout_seconds, *why)
        .WithKind(ErrorKind::kBusy);
  }
  out.record = lp.record;
  for (const PatchRecord* old : superseded) {
    if (opt.progress) opt.progress(fmt::format("process {}: removing superseded patch {}", pid, old->id));
    Status st = RemovePatchMemory(pid, gadgets, image, *unwinder, *old);
    if (!st.ok())
      return Err("process {}: patch {} is active and patch {} no longer runs, but {}'s memory is still mapped: "
                 "{}; run `graft revert {} --pid {}` to remove it", pid, b.id, old->id, old->id,
                 st.error().message(), old->id, pid).WithKind(ErrorKind::kPartial);
  }
  return out;
}

Result<PatchOutcome> RevertFromProcess(const std::string& id, pid_t pid, const PatchOptions& opt) {
  GRAFT_ASSIGN(ProcessLock lock, ProcessLock::Take(pid));
  GRAFT_ASSIGN(auto applied, ReadAppliedPatches(pid));
  const AppliedPatch* ap = nullptr;
  for (const AppliedPatch& a : applied)
    if (a.record.id == id) ap = &a;
  if (!ap) return Err("patch {} is not applied to process {} ({})", id, pid, process::ProcessName(pid));
  const PatchRecord& rec = ap->record;
  GRAFT_ASSIGN(ProcessImage image, ProcessImage::Read(pid, opt.cache));
  GRAFT_ASSIGN(auto gadgets, image.FindSyscallGadgets());
  GRAFT_ASSIGN(auto tables, UnwindTablesOf(pid, applied));
  GRAFT_ASSIGN(auto unwinder, process::StackUnwinder::Create(pid, std::move(tables)));
  GRAFT_ASSIGN(process::ProcessMemory mem, process::ProcessMemory::Open(pid));
  std::vector<BusyRange> busy = {{rec.code_start, rec.code_start + rec.code_size, "patch " + id + "'s code"}};
  for (const PatchedFunction& f : rec.functions) busy.push_back({f.site, f.site + f.jump.size(), f.name + "'s entry"});

  PatchOutcome out;
  out.pid = pid;
  out.record = rec;
  SwitchPlan plan;
  plan.busy = busy;
  if (!opt.dry_run && LibgccCode(image).empty()) plan.traps = {rec.trap_code, rec.trap_data, rec.trap_count};
  // A patch superseded by a newer level may have the newer one's jumps at
  // its sites: those are not its own and stay.
  auto others_jump = [&](uint64_t site, const std::vector<uint8_t>& now) {
    for (const AppliedPatch& a : applied)
      if (a.record.id != id)
        for (const PatchedFunction& g : a.record.functions)
          if (g.site == site && g.jump == now) return true;
    return false;
  };
  plan.verify = [&](process::StoppedProcess&) -> Status {
    for (const PatchedFunction& f : rec.functions) {
      GRAFT_ASSIGN(auto now, mem.Read(f.site, f.jump.size()));
      if (now != f.jump && now != f.original && !others_jump(f.site, now))
        return Err("function {} in process {} was changed by someone else since patch {} was applied; "
                   "refusing to revert", f.name, pid, id).WithKind(ErrorKind::kTargetChanged);
    }
    return OkStatus();
  };
  // With unwind tables registered, unregistering needs the other threads
  // running (libgcc_s takes locks), so the unmap comes after the switch;
  // nothing can enter the code once the jumps are gone.
  bool unmap_in_stop = rec.eh_frame == 0;
  plan.commit = [&](process::StoppedProcess& proc) -> Status {
    std::vector<SiteWrite> writes;
    for (const PatchedFunction& f : rec.functions) {
      GRAFT_ASSIGN(auto now, mem.Read(f.site, f.jump.size()));
      if (now == f.jump) writes.push_back({f.site, f.original, f.jump});
    }
    GRAFT_TRY(WriteAllOrNothing(mem, writes));
    if (!unmap_in_stop) return OkStatus();
    // Still stopped: nobody can be in the patch's code now, unmap it in the same stop.
    GRAFT_ASSIGN(auto rs, process::RemoteSyscall::Prepare(proc, proc.threads()[0].tid, gadgets));
    GRAFT_TRY(Check(rs.Call(SYS_munmap, {rec.code_start, rec.code_size + rec.data_size}), "munmap"));
    return OkStatus();
  };
  GRAFT_ASSIGN(std::string why, SwitchWhenIdle(pid, *unwinder, mem, plan, opt, out));
  if (!why.empty()) {
    if (opt.dry_run) return Err("process {}: would wait: {}", pid, why);
    return Err("process {}: gave up reverting {} after {} attempts: {}; the patch stays applied", pid, id,
               out.attempts, why).WithKind(ErrorKind::kBusy);
  }
  if (!unmap_in_stop && !opt.dry_run) {
    Status st = RemovePatchMemory(pid, gadgets, image, *unwinder, rec);
    if (!st.ok())
      return Err("process {}: patch {} is reverted (the original code runs), but its memory is still mapped: {}; "
                 "run `graft revert {} --pid {}` again to remove it", pid, id, st.error().message(), id, pid)
          .WithKind(ErrorKind::kPartial);
  }
  return out;
}

}  // namespace graft::userspace

// kcve: the user-space side of the kernel CVE corpus (tests/kernel-cves),
// run in the QEMU guest. Each subcommand makes the system call a fix
// changes and prints one line that differs between the vulnerable and the
// fixed kernel code (or, for fixes with no visible effect, one line that
// shows the patched code path still works).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/in6.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/kd.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef F_SET_RW_HINT
#define F_SET_RW_HINT 1036
#endif
#ifndef IPV6_FLOWLABEL_MGR
#define IPV6_FLOWLABEL_MGR 32
#endif

static const char *err_or_ok(int rc) { return rc == 0 ? "ok" : strerror(errno); }

// PR_SET_MM_AUXV with one pair (16 bytes): the kernel must keep a vector
// that ends right after it; the vulnerable code copies only 16 bytes over
// the old vector, whose remaining entries stay visible in /proc/self/auxv.
static int auxv(void) {
  unsigned long v[2] = {6 /* AT_PAGESZ */, 4096};
  if (prctl(PR_SET_MM, PR_SET_MM_AUXV, (unsigned long)v, sizeof(v), 0) != 0)
    return printf("prctl: %s\n", strerror(errno)), 1;
  unsigned long buf[128];
  int fd = open("/proc/self/auxv", O_RDONLY);
  ssize_t n = read(fd, buf, sizeof(buf));
  int pairs = 0;
  for (ssize_t i = 0; i + 1 < n / (ssize_t)sizeof(long) && buf[i] != 0; i += 2) pairs++;
  printf("auxv entries after setting 1: %d\n", pairs);
  return 0;
}

// The 32-bit settimeofday (int 0x80, i386 number 79) with tv_usec 999999
// and with 1000000, one past the last valid value. (The vulnerable check lets
// 1000000 through, but do_sys_settimeofday64 rejects the timespec it makes:
// both kernels answer EINVAL.)
static long settimeofday32_usec(int32_t *tv, int32_t usec) {
  tv[0] = (int32_t)time(NULL);
  tv[1] = usec;
  long rc;
  __asm__ volatile("int $0x80" : "=a"(rc) : "a"(79L), "b"((long)tv), "c"(0L) : "memory");
  return rc;
}

static int settimeofday32(void) {
  int32_t *tv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (tv == MAP_FAILED) return perror("mmap"), 1;
  for (int32_t usec = 999999; usec <= 1000000; usec++) {
    long rc = settimeofday32_usec(tv, usec);
    printf("compat settimeofday(tv_usec=%d): %s\n", usec, rc == 0 ? "accepted" : strerror((int)-rc));
  }
  return 0;
}

// F_SET_RW_HINT on a file marked immutable (FS_IOC_SETFLAGS on tmpfs).
static int rwhint(const char *path) {
  int fd = open(path, O_RDONLY | O_CREAT, 0644);
  if (fd < 0) return perror(path), 1;
  int flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) return perror("FS_IOC_GETFLAGS"), 1;
  flags |= FS_IMMUTABLE_FL;
  if (ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0) return perror("FS_IOC_SETFLAGS"), 1;
  uint64_t hint = 2; /* RWH_WRITE_LIFE_SHORT */
  int rc = fcntl(fd, F_SET_RW_HINT, &hint);
  printf("F_SET_RW_HINT on an immutable file: %s\n", err_or_ok(rc == -1 ? -1 : 0));
  return 0;
}

// A new time namespace's monotonic offset with tv_nsec = -1 (written as
// ULONG_MAX, which the "%lu" parser accepts into the signed field).
static int timens(void) {
  if (unshare(CLONE_NEWTIME) != 0) return printf("unshare: %s\n", strerror(errno)), 1;
  int fd = open("/proc/self/timens_offsets", O_WRONLY);
  if (fd < 0) return perror("timens_offsets"), 1;
  const char *s = "monotonic 0 18446744073709551615\n";
  ssize_t n = write(fd, s, strlen(s));
  printf("timens offset with tv_nsec -1: %s\n", n >= 0 ? "accepted" : strerror(errno));
  return 0;
}

// Without CAP_NET_ADMIN, 40 leases of the same IPv6 flow label on one socket.
static int flowlabel(void) {
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return perror("socket"), 1;
  if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) return perror("setresuid"), 1;
  struct in6_flowlabel_req req;
  int ok = 0, last_err = 0;
  for (int i = 0; i < 40; i++) {
    memset(&req, 0, sizeof(req));
    req.flr_dst = in6addr_loopback;
    req.flr_label = htonl(0x12345);
    req.flr_action = IPV6_FL_A_GET;
    req.flr_share = IPV6_FL_S_ANY;
    req.flr_flags = IPV6_FL_F_CREATE;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_FLOWLABEL_MGR, &req, sizeof(req)) == 0) ok++;
    else last_err = errno;
  }
  printf("flow label leases granted: %d of 40%s%s\n", ok, last_err ? ", then " : "",
         last_err ? strerror(last_err) : "");
  return 0;
}

static int set_name(int fd, const char *from, const char *to) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  strncpy(ifr.ifr_name, from, IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) return -1;
  ifr.ifr_flags &= ~IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) return -1;
  strncpy(ifr.ifr_newname, to, IFNAMSIZ - 1);
  return ioctl(fd, SIOCSIFNAME, &ifr);
}

// SIOCGARP naming a device with all 16 bytes of arp_dev used (no NUL):
// loopback renamed to a 15-character name for the test, so the fixed
// kernel (which cuts the name at 15) finds it and reports no ARP entry
// (ENXIO) while the vulnerable one reads past the field and finds no device.
static int arpdev(void) {
  const char *longname = "kcvearpdevice15";
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return perror("socket"), 1;
  if (set_name(fd, "lo", longname) != 0) return perror("rename lo"), 1;
  struct arpreq r;
  memset(&r, 0, sizeof(r));
  struct sockaddr_in *pa = (struct sockaddr_in *)&r.arp_pa;
  pa->sin_family = AF_INET;
  pa->sin_addr.s_addr = htonl(0x7f000002);
  memcpy(r.arp_dev, "kcvearpdevice15X", 16);
  int rc = ioctl(fd, SIOCGARP, &r);
  int e = errno;
  set_name(fd, longname, "lo");
  printf("SIOCGARP with an unterminated device name: %s\n", rc == 0 ? "found" : strerror(e));
  return 0;
}

// KDSKBMETA on a virtual console that is not the caller's terminal, by a
// process without CAP_SYS_TTY_CONFIG (it sets the mode the console has).
static int kbmeta(void) {
  int fd = open("/dev/tty1", O_RDWR | O_NOCTTY);
  if (fd < 0) return perror("/dev/tty1"), 1;
  long mode = 0;
  if (ioctl(fd, KDGKBMETA, &mode) != 0) return perror("KDGKBMETA"), 1;
  if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) return perror("setresuid"), 1;
  int rc = ioctl(fd, KDSKBMETA, mode);
  printf("KDSKBMETA without permission: %s\n", rc == 0 ? "accepted" : strerror(errno));
  return 0;
}

// A BPF queue map from user space: push two values, pop one (the pop goes
// through __queue_map_get).
static int bpfqueue(void) {
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.map_type = BPF_MAP_TYPE_QUEUE;
  a.value_size = sizeof(int);
  a.max_entries = 4;
  int fd = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
  if (fd < 0) return printf("BPF_MAP_CREATE: %s\n", strerror(errno)), 1;
  int v = 7, out = 0;
  for (int i = 0; i < 2; i++, v++) {
    memset(&a, 0, sizeof(a));
    a.map_fd = fd;
    a.value = (unsigned long)&v;
    a.flags = BPF_ANY;
    if (syscall(SYS_bpf, BPF_MAP_UPDATE_ELEM, &a, sizeof(a)) != 0) return printf("push: %s\n", strerror(errno)), 1;
  }
  memset(&a, 0, sizeof(a));
  a.map_fd = fd;
  a.value = (unsigned long)&out;
  long rc = syscall(SYS_bpf, BPF_MAP_LOOKUP_AND_DELETE_ELEM, &a, sizeof(a));
  printf("queue map: pushed 7 and 8, popped %d (%s)\n", out, rc == 0 ? "ok" : strerror(errno));
  return 0;
}

// mlock and munlock 16 pages (munlock clears their Mlocked state through
// __munlock_page).
static int mlockpages(void) {
  size_t len = 16 * 4096;
  char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return perror("mmap"), 1;
  memset(p, 1, len);
  int a = mlock(p, len), b = munlock(p, len);
  printf("mlock: %s, munlock: %s\n", err_or_ok(a), err_or_ok(b));
  return 0;
}

// fspick on the root of a mounted file system (the fixed check refuses only
// kernel-internal superblocks, which no path names from user space).
static int fspick_root(const char *path) {
  int fd = syscall(SYS_fspick, AT_FDCWD, path, 1 /* FSPICK_CLOEXEC */);
  printf("fspick %s: %s\n", path, fd >= 0 ? "ok" : strerror(errno));
  return 0;
}

// A user key added to the process keyring, then request_key for it: the
// lookup searches the caller's keyrings (search_process_keyrings_rcu).
static int keys(void) {
  long id = syscall(SYS_add_key, "user", "kcve", "x", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */);
  if (id < 0) return printf("add_key: %s\n", strerror(errno)), 1;
  long found = syscall(SYS_request_key, "user", "kcve", NULL, 0);
  printf("request_key found the process keyring's key: %s\n",
         found == id ? "yes" : found < 0 ? strerror(errno) : "another key");
  return 0;
}

static int tsync_go[2], tsync_done[2];

// A second thread of the traced process: once told, installs a seccomp
// filter (getppid fails with errno 99) on every thread with TSYNC.
static void *tsync_installer(void *arg) {
  (void)arg;
  char c;
  if (read(tsync_go[0], &c, 1) != 1) return NULL;
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 99),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  c = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) == 0 ? 'y' : 'n';
  if (write(tsync_done[1], &c, 1) != 1) return NULL;
  return NULL;
}

// A traced thread stops at the entry of getppid; while it is stopped, the
// other thread of its process installs a seccomp filter with TSYNC. The
// fixed kernel looks at the thread's work flags again after the ptrace stop
// and runs the filter (getppid fails); the vulnerable one skips it.
static int tsync(void) {
  if (pipe(tsync_go) != 0 || pipe(tsync_done) != 0) return perror("pipe"), 1;
  pid_t child = fork();
  if (child == 0) {
    pthread_t t;
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    pthread_create(&t, NULL, tsync_installer, NULL);
    raise(SIGSTOP);
    long r = syscall(SYS_getppid);
    _exit(r == -1 && errno == 99 ? 1 : r > 0 ? 0 : 2);
  }
  int st;
  waitpid(child, &st, 0);
  ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACESYSGOOD);
  ptrace(PTRACE_SYSCALL, child, 0, 0);
  char installed = '?';
  for (;;) {
    if (waitpid(child, &st, 0) != child || WIFEXITED(st) || WIFSIGNALED(st)) break;
    if (WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80) && installed == '?') {
      struct user_regs_struct regs;
      ptrace(PTRACE_GETREGS, child, 0, &regs);
      if (regs.orig_rax == SYS_getppid) {  // the entry stop of getppid
        char c = 'g';
        if (write(tsync_go[1], &c, 1) != 1 || read(tsync_done[0], &installed, 1) != 1) installed = 'n';
        ptrace(PTRACE_CONT, child, 0, 0);
        continue;
      }
    }
    ptrace(PTRACE_SYSCALL, child, 0, WIFSTOPPED(st) && WSTOPSIG(st) != SIGTRAP && WSTOPSIG(st) != (SIGTRAP | 0x80) ? WSTOPSIG(st) : 0);
  }
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  printf("filter installed during the ptrace stop: %s; getppid: %s\n", installed == 'y' ? "yes" : "no",
         code == 1 ? "blocked by the filter" : code == 0 ? "ran (filter skipped)" : "?");
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *cmd = argc > 1 ? argv[1] : "";
  if (!strcmp(cmd, "auxv")) return auxv();
  if (!strcmp(cmd, "settimeofday32")) return settimeofday32();
  if (!strcmp(cmd, "rwhint") && argc > 2) return rwhint(argv[2]);
  if (!strcmp(cmd, "timens")) return timens();
  if (!strcmp(cmd, "flowlabel")) return flowlabel();
  if (!strcmp(cmd, "arpdev")) return arpdev();
  if (!strcmp(cmd, "tsync")) return tsync();
  if (!strcmp(cmd, "kbmeta")) return kbmeta();
  if (!strcmp(cmd, "bpfqueue")) return bpfqueue();
  if (!strcmp(cmd, "mlock")) return mlockpages();
  if (!strcmp(cmd, "keys")) return keys();
  if (!strcmp(cmd, "fspick") && argc > 2) return fspick_root(argv[2]);
  fprintf(stderr, "usage: kcve auxv|settimeofday32|rwhint FILE|timens|flowlabel|arpdev|tsync|kbmeta|bpfqueue|mlock|keys|fspick PATH\n");
  return 2;
}

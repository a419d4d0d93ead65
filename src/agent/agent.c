/* libgraft-agent.so: the start-up agent of graftd. Preloaded into every
 * dynamically linked process (/etc/ld.so.preload, or LD_PRELOAD), its
 * constructor runs after the dynamic linker has mapped the program and its
 * libraries and before any of their code: it compares the build-ids of the
 * loaded objects (read from their program headers in memory, no file I/O)
 * with the index of installed patches graftd keeps, and only when one
 * matches asks graftd to patch this process and waits for the answer —
 * blocked in a system call, outside any code a patch replaces. A process
 * that maps nothing patched pays one small file read. When graftd does not
 * run, the connect fails at once; when it does not answer, the wait ends
 * after GRAFT_AGENT_TIMEOUT_MS (default 10000); either way the process
 * goes on unpatched with one line on stderr. Written in C with libc only:
 * it must not pull a C++ runtime into every process. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct scan {
  const char *index; /* build-ids, one per line, hex */
  int matched;
  char first[81];    /* the first matching build-id, for messages */
};

static int in_index(const char *index, const char *hex) {
  size_t n = strlen(hex);
  for (const char *p = index; (p = strstr(p, hex)) != NULL; p += n)
    if ((p == index || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0')) return 1;
  return 0;
}

static int check_object(struct dl_phdr_info *info, size_t size, void *data) {
  struct scan *s = data;
  (void)size;
  for (int i = 0; i < info->dlpi_phnum && !s->matched; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE) continue;
    const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
      const char *name = p + sizeof *nh;
      const unsigned char *desc = (const unsigned char *)name + ((nh->n_namesz + 3) & ~3u);
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= 40) {
        char hex[81];
        for (unsigned k = 0; k < nh->n_descsz; k++) snprintf(hex + 2 * k, 3, "%02x", desc[k]);
        hex[2 * nh->n_descsz] = '\0';
        if (in_index(s->index, hex)) {
          s->matched = 1;
          memcpy(s->first, hex, sizeof hex);
        }
      }
      p = (const char *)desc + ((nh->n_descsz + 3) & ~3u);
    }
  }
  return s->matched;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

__attribute__((constructor)) static void graft_agent_start(void) {
  const char *dir = getenv("GRAFT_AGENT_DIR");
  if (!dir || !*dir) dir = "/run/graft";
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  if (snprintf(path, sizeof path, "%s/agent.index", dir) >= (int)sizeof path) return;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return; /* no graftd state: nothing installed */
  static char index[65536];
  ssize_t n = read(fd, index, sizeof index - 1);
  close(fd);
  if (n <= 0) return;
  index[n] = '\0';
  struct scan s = {index, 0, ""};
  dl_iterate_phdr(check_object, &s);
  if (!s.matched) return;

  int saved_errno = errno;
  const char *prog = program_invocation_short_name;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (snprintf(addr.sun_path, sizeof addr.sun_path, "%s/agent.sock", dir) >= (int)sizeof addr.sun_path) return;
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return;
  if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
    dprintf(2, "graft-agent: %s (pid %d) maps a patched object (build-id %s) but graftd is not reachable at %s (%s): "
               "it runs unpatched\n", prog, getpid(), s.first, addr.sun_path, strerror(errno));
    close(sock);
    errno = saved_errno;
    return;
  }
  long timeout = 10000;
  const char *t = getenv("GRAFT_AGENT_TIMEOUT_MS");
  if (t && *t) timeout = strtol(t, NULL, 10);
  /* graftd knows the pid from the socket's credentials; the request only says what is asked. */
  (void)!write(sock, "patch\n", 6);
  long deadline = now_ms() + timeout;
  char reply[512];
  size_t got = 0;
  for (;;) {
    long left = deadline - now_ms();
    if (left <= 0) {
      dprintf(2, "graft-agent: %s (pid %d): graftd did not answer within %ld ms: it runs unpatched\n", prog, getpid(),
              timeout);
      break;
    }
    struct pollfd p = {.fd = sock, .events = POLLIN};
    int r = poll(&p, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t k = read(sock, reply + got, sizeof reply - 1 - got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    got += (size_t)k;
    if (memchr(reply, '\n', got) || got == sizeof reply - 1) break;
  }
  reply[got] = '\0';
  if (got && strncmp(reply, "ok", 2) != 0) dprintf(2, "graft-agent: %s (pid %d): %s", prog, getpid(), reply);
  close(sock);
  errno = saved_errno;
}

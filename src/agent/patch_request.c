/* The agent's one question to graftd: "patch me", asked only when an object
 * loaded since the last check maps a build-id in graftd's index
 * (<dir>/agent.index, one hex build-id a line; kept here sorted, in binary).
 * The answer is awaited in poll(), outside any code a patch replaces; graftd
 * takes the pid from the socket's credentials. Objects are told apart by
 * the loader's load and unload counters (dl_iterate_phdr's dlpi_adds and
 * dlpi_subs): a dlopen that loads nothing new (an already loaded library,
 * RTLD_NOLOAD) costs one counter read under a mutex. */
#define _GNU_SOURCE
#include "patch_request.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_HANDLED 64

/* REQUIRES: `lock` held for everything below it. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long checked_adds = ~0ULL, checked_subs = ~0ULL;
/* Patched objects graftd was asked about, whatever it answered: a refusal or
 * a graftd that is down is not asked again on every dlopen (its periodic
 * pass covers them). Forgotten when anything is unloaded, since a library
 * loaded later may reuse an address. */
static struct handled {
  uintptr_t base;
  char id[81];
} handled[MAX_HANDLED];
static int nhandled;
/* Objects already compared with the current index and not in it, by the
 * address of their program headers (unique among loaded objects): a new
 * load then reads only the new objects' notes. Emptied when the index
 * changes or anything is unloaded. */
#define CLEAN_SLOTS 1024
static uintptr_t clean[CLEAN_SLOTS];
static int nclean;
/* The index as sorted binary build-ids, searched per object by bisection. */
#define MAX_INDEX 4096
static struct build_id {
  unsigned char len, bytes[40];
} index_ids[MAX_INDEX];
static int index_count;
static struct stat index_stat;
static int index_loaded;
static char agent_dir[108];

static __thread int in_check; /* no re-entry from what the check itself calls */

static void forget_after_fork(void) {
  /* A fork while another thread waited for graftd leaves the lock taken in a
   * child that has no such thread. */
  pthread_mutex_init(&lock, NULL);
  in_check = 0;
}

static void init_once(void) {
  const char *dir = getenv("GRAFT_AGENT_DIR");
  if (!dir || !*dir) dir = "/run/graft";
  if (strlen(dir) < sizeof agent_dir) strcpy(agent_dir, dir);
  pthread_atfork(NULL, NULL, forget_after_fork);
}

static int compare_ids(const void *a, const void *b) {
  const struct build_id *x = a, *y = b;
  if (x->len != y->len) return x->len - y->len;
  return memcmp(x->bytes, y->bytes, x->len);
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* One hex build-id a line; anything else on a line drops that line. */
static void parse_index(const char *text) {
  index_count = 0;
  for (const char *p = text; *p && index_count < MAX_INDEX;) {
    const char *eol = strchr(p, '\n');
    if (!eol) eol = p + strlen(p);
    size_t n = (size_t)(eol - p);
    struct build_id *id = &index_ids[index_count];
    int ok = n >= 2 && n % 2 == 0 && n / 2 <= sizeof id->bytes;
    for (size_t k = 0; ok && k < n / 2; k++) {
      int hi = hex_digit(p[2 * k]), lo = hex_digit(p[2 * k + 1]);
      ok = hi >= 0 && lo >= 0;
      id->bytes[k] = (unsigned char)(hi << 4 | lo);
    }
    if (ok) {
      id->len = (unsigned char)(n / 2);
      index_count++;
    }
    p = *eol ? eol + 1 : eol;
  }
  qsort(index_ids, (size_t)index_count, sizeof index_ids[0], compare_ids);
}

/* Reads the index again only when the file changed (graftd replaces it on
 * install and uninstall). Returns 0 when there is none. */
static int load_index(void) {
  char path[sizeof agent_dir + 16];
  snprintf(path, sizeof path, "%s/agent.index", agent_dir);
  struct stat st;
  if (stat(path, &st) < 0) return index_loaded = 0;
  if (index_loaded && st.st_ino == index_stat.st_ino && st.st_dev == index_stat.st_dev &&
      st.st_size == index_stat.st_size && st.st_mtim.tv_sec == index_stat.st_mtim.tv_sec &&
      st.st_mtim.tv_nsec == index_stat.st_mtim.tv_nsec)
    return index_count > 0;
  static char text[MAX_INDEX * 82];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return index_loaded = 0;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n < 0) return index_loaded = 0;
  text[n] = '\0';
  parse_index(text);
  index_stat = st;
  index_loaded = 1;
  memset(clean, 0, sizeof clean);
  nclean = 0;
  return index_count > 0;
}

static int in_index(const unsigned char *desc, unsigned len) {
  struct build_id key = {.len = (unsigned char)len};
  memcpy(key.bytes, desc, len);
  return bsearch(&key, index_ids, (size_t)index_count, sizeof key, compare_ids) != NULL;
}

static int was_handled(uintptr_t base, const char *hex) {
  for (int i = 0; i < nhandled; i++)
    if (handled[i].base == base && strcmp(handled[i].id, hex) == 0) return 1;
  return 0;
}

struct scan {
  int counted;
  unsigned long long adds, subs; /* as the loader had them during this walk */
  int npending;
  struct handled pending[MAX_HANDLED];
};

static int read_counters(struct dl_phdr_info *info, size_t size, void *data) {
  struct scan *s = data;
  if (size < offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) return 1;
  s->adds = info->dlpi_adds;
  s->subs = info->dlpi_subs;
  s->counted = 1;
  return 1;
}

static void build_id_hex(const unsigned char *desc, unsigned len, char *hex) {
  static const char digits[] = "0123456789abcdef";
  for (unsigned k = 0; k < len; k++) {
    hex[2 * k] = digits[desc[k] >> 4];
    hex[2 * k + 1] = digits[desc[k] & 15];
  }
  hex[2 * len] = '\0';
}

/* Build-ids come from the program headers in memory: no file I/O. */
static uintptr_t *clean_slot(uintptr_t key) {
  size_t i = (key >> 12) * 0x9e3779b97f4a7c15ull >> 54; /* 10 bits: CLEAN_SLOTS */
  while (clean[i] && clean[i] != key) i = (i + 1) % CLEAN_SLOTS;
  return &clean[i];
}

static void remember_clean(uintptr_t key) {
  if (nclean >= CLEAN_SLOTS / 2) return; /* keep probes short; the rest is just read again */
  uintptr_t *slot = clean_slot(key);
  if (!*slot) {
    *slot = key;
    nclean++;
  }
}

static int check_object(struct dl_phdr_info *info, size_t size, void *data) {
  struct scan *s = data;
  if (!s->counted) read_counters(info, size, s);
  uintptr_t key = (uintptr_t)info->dlpi_phdr;
  if (s->npending == MAX_HANDLED || *clean_slot(key) == key) return 0;
  int matched = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE) continue;
    const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
      const char *name = p + sizeof *nh;
      const unsigned char *desc = (const unsigned char *)name + ((nh->n_namesz + 3) & ~3u);
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= 40) {
        if (in_index(desc, nh->n_descsz)) {
          matched = 1;
          char hex[81];
          build_id_hex(desc, nh->n_descsz, hex);
          if (!was_handled(info->dlpi_addr, hex)) {
            struct handled *h = &s->pending[s->npending++];
            h->base = info->dlpi_addr;
            memcpy(h->id, hex, sizeof hex);
          }
        }
        goto done; /* one build-id per object */
      }
      p = (const char *)desc + ((nh->n_descsz + 3) & ~3u);
    }
  }
done:
  if (!matched) remember_clean(key);
  return 0;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* How this process came to map the object, for messages. */
static void describe(char *out, size_t n, const char *cause) {
  if (cause)
    snprintf(out, n, "%s (pid %d): dlopen(\"%s\")", program_invocation_short_name, getpid(), cause);
  else
    snprintf(out, n, "%s (pid %d)", program_invocation_short_name, getpid());
}

static void ask_graftd(const char *cause, const char *first_id) {
  char who[512];
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (snprintf(addr.sun_path, sizeof addr.sun_path, "%s/agent.sock", agent_dir) >= (int)sizeof addr.sun_path) return;
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return;
  if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
    describe(who, sizeof who, cause);
    dprintf(2, "graft-agent: %s maps a patched object (build-id %s) but graftd is not reachable at %s (%s): "
               "it runs unpatched\n", who, first_id, addr.sun_path, strerror(errno));
    close(sock);
    return;
  }
  long timeout = 10000;
  const char *t = getenv("GRAFT_AGENT_TIMEOUT_MS");
  if (t && *t) timeout = strtol(t, NULL, 10);
  /* graftd knows the pid from the socket's credentials; the request only says what is asked. */
  (void)!send(sock, "patch\n", 6, MSG_NOSIGNAL); /* a graftd that just went away must not kill us */
  long deadline = now_ms() + timeout;
  char reply[512];
  size_t got = 0;
  for (;;) {
    long left = deadline - now_ms();
    if (left <= 0) {
      describe(who, sizeof who, cause);
      dprintf(2, "graft-agent: %s: graftd did not answer within %ld ms: it runs unpatched\n", who, timeout);
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
  if (got && strncmp(reply, "ok", 2) != 0) {
    describe(who, sizeof who, cause);
    dprintf(2, "graft-agent: %s: %s", who, reply);
  }
  close(sock);
}

void graft_agent_check(const char *cause) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  if (in_check) return;
  int saved_errno = errno;
  in_check = 1;
  pthread_once(&once, init_once);
  pthread_mutex_lock(&lock);
  struct scan s;
  s.counted = 0;
  dl_iterate_phdr(read_counters, &s);
  if (!s.counted || (s.adds == checked_adds && s.subs == checked_subs)) goto out;
  if (s.subs != checked_subs) {
    nhandled = 0;
    memset(clean, 0, sizeof clean);
    nclean = 0;
  }
  if (!load_index()) {
    checked_adds = s.adds;
    checked_subs = s.subs;
    goto out;
  }
  s.counted = 0;
  s.npending = 0;
  dl_iterate_phdr(check_object, &s);
  if (s.npending) {
    ask_graftd(cause, s.pending[0].id);
    for (int i = 0; i < s.npending && nhandled < MAX_HANDLED; i++) handled[nhandled++] = s.pending[i];
  }
  checked_adds = s.adds;
  checked_subs = s.subs;
out:
  pthread_mutex_unlock(&lock);
  in_check = 0;
  errno = saved_errno;
}

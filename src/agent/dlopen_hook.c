/* dlopen and dlmopen, interposed by the preloaded agent: the real one loads
 * the library, then, before it returns to its caller, graft_agent_check()
 * asks graftd to patch the process when the library (or anything it pulled
 * in) maps a patched build-id. So the caller's first call into the library
 * runs the fixed code. The library's own constructors run inside the real
 * dlopen, before the check: that window is docs/safety.md's.
 *
 * glibc's dlopen reads its caller from its return address; called from here
 * it would see the agent, and a name without a slash would be searched along
 * the agent's RUNPATH instead of the caller's (the bug LD_PRELOAD dlopen
 * hooks are known for: sanitizers, VirtualGL, uftrace). So the real one is
 * called with a return address borrowed from the caller's own object
 * (borrowed_ret.c, call_as_caller_x86_64.S). When there is none to borrow
 * (code outside any object, no frame descriptions, a shadow stack), the
 * real dlopen is called as a tail call — exactly what the caller asked
 * for, without the check (graftd's periodic pass covers it). glibc's
 * internal loads (NSS modules, iconv's gconv modules, libgcc_s for
 * unwinding) do not go through these symbols and are not checked here
 * either. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>

#include "borrowed_ret.h"
#include "patch_request.h"

void *graft_call_as_caller(long a0, long a1, long a2, void *fn, const void *ret_in_caller);

typedef void *(*dlopen_fn)(const char *, int);
typedef void *(*dlmopen_fn)(Lmid_t, const char *, int);
static dlopen_fn real_dlopen;
static dlmopen_fn real_dlmopen;

static void resolve(void) {
  real_dlopen = (dlopen_fn)dlsym(RTLD_NEXT, "dlopen");
  real_dlmopen = (dlmopen_fn)dlsym(RTLD_NEXT, "dlmopen");
}

static pthread_once_t resolved = PTHREAD_ONCE_INIT;

/* dlopens of this thread under way whose borrowed return an unwinder cannot
 * read past: a dlopen nested in one of them (from a constructor) leaves its
 * check to the outer one, since graft would find this thread's stack
 * unreadable and wait for it in vain. */
static __thread int opaque_outer;

__attribute__((visibility("default"))) void *dlopen(const char *file, int mode) {
  pthread_once(&resolved, resolve);
  int exact;
  const void *ret = graft_borrowed_ret(__builtin_return_address(0), &exact);
  if (!ret) return real_dlopen(file, mode);
  opaque_outer += !exact;
  void *handle = graft_call_as_caller((long)file, mode, 0, (void *)real_dlopen, ret);
  opaque_outer -= !exact;
  if (handle && !opaque_outer) graft_agent_check(file ? file : "NULL");
  return handle;
}

__attribute__((visibility("default"))) void *dlmopen(Lmid_t lmid, const char *file, int mode) {
  pthread_once(&resolved, resolve);
  int exact;
  const void *ret = graft_borrowed_ret(__builtin_return_address(0), &exact);
  if (!ret) return real_dlmopen(lmid, file, mode);
  opaque_outer += !exact;
  void *handle = graft_call_as_caller(lmid, (long)file, mode, (void *)real_dlmopen, ret);
  opaque_outer -= !exact;
  if (handle && !opaque_outer) graft_agent_check(file ? file : "NULL");
  return handle;
}

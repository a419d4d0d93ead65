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
 * goes on unpatched with one line on stderr. Libraries the process
 * dlopens later are checked the same way before dlopen returns
 * (dlopen_hook.c). Written in C with libc only: it must not pull a C++
 * runtime into every process. */
#include <stddef.h>

#include "patch_request.h"

__attribute__((constructor)) static void graft_agent_start(void) { graft_agent_check(NULL); }

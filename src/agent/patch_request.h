/* What the start-up check and the dlopen hook share: finding objects that
 * map a patched build-id and were not yet asked about, and asking graftd to
 * patch this process while the calling thread waits. */
#ifndef GRAFT_AGENT_PATCH_REQUEST_H
#define GRAFT_AGENT_PATCH_REQUEST_H

/* Compares the objects loaded since the last call (all of them the first
 * time) with graftd's index and, when one maps a patched build-id that was
 * not asked about yet, asks graftd to patch this process and waits for the
 * answer (at most GRAFT_AGENT_TIMEOUT_MS). `cause` names what loaded them,
 * for messages: NULL at start-up, else the file given to dlopen. Thread-safe:
 * a thread that finds another one asking waits for that answer, so no thread
 * returns before the objects it saw loaded were patched. Keeps errno. */
void graft_agent_check(const char *cause);

#endif

/* A return address for the real dlopen that lies in its caller's object:
 * see borrowed_ret.c. */
#ifndef GRAFT_AGENT_BORROWED_RET_H
#define GRAFT_AGENT_BORROWED_RET_H

/* A 0xc3 (ret) byte in the executable segment of the object that holds
 * `caller`; NULL when there is none (or a shadow stack would refuse a
 * return that no call pushed). *exact says whether an unwinder stepping
 * through it reads the outer frames exactly (else it stops there: a stack
 * graft counts as busy). Thread-safe; cached until an unload. */
const void *graft_borrowed_ret(const void *caller, int *exact);

#endif

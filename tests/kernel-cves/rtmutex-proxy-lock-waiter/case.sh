TITLE="locking/rtmutex: Skip remove_waiter() when waiter is not enqueued"
CVE=CVE-2026-53163
STABLE=6.1.177
FILE=kernel/locking/rtmutex_api.c
OBJECT=vmlinux
# The path is a PI futex requeue whose proxy lock succeeds at once (ret 1);
# the check shows only that the kernel runs on (load and unload only).
OBSERVABLE=no
CHECK='echo alive'
BUGGY='^alive$'
FIXED=$BUGGY

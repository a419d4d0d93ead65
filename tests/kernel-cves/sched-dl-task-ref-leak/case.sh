TITLE="sched/deadline: Fix task_struct reference leak"
CVE=CVE-2024-41023
STABLE=6.1.191
FILE=kernel/sched/deadline.c
OBJECT=vmlinux
# A PI de-boost of a SCHED_DEADLINE task with its replenish timer armed;
# the check shows only that the kernel runs on (load and unload only).
OBSERVABLE=no
CHECK='echo alive'
BUGGY='^alive$'
FIXED=$BUGGY

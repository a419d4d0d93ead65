TITLE="bpf: Fix pending_pos walk on 32-bit ring position wrap"
CVE=""
STABLE=6.1.188
FILE=kernel/bpf/ringbuf.c
OBJECT=vmlinux
# Positions wrap only after 2^64 bytes on 64-bit; the check shows only that
# the kernel runs on (load and unload only).
OBSERVABLE=no
CHECK='echo alive'
BUGGY='^alive$'
FIXED=$BUGGY

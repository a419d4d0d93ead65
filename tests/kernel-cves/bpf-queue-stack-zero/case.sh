TITLE="bpf: Zero queue and stack outputs on lock failure"
CVE=CVE-2026-92520
STABLE=6.1.191
FILE=kernel/bpf/queue_stack_maps.c
OBJECT=vmlinux
# The lock fails only in NMI context (a BPF program on a perf event); the
# check pushes and pops through the patched __queue_map_get from user space.
OBSERVABLE=no
CHECK='kcve bpfqueue'
BUGGY='^queue map: pushed 7 and 8, popped 7 \(ok\)$'
FIXED=$BUGGY

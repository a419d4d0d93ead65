TITLE="software node: Fix software_node_get_reference_args() with index -1"
CVE=""
STABLE=6.1.188
FILE=drivers/base/swnode.c
OBJECT=vmlinux
# Callers are drivers of devices described by software nodes, which the
# guest has none of; load and unload only.
OBSERVABLE=no
CHECK='echo alive'
BUGGY='^alive$'
FIXED=$BUGGY

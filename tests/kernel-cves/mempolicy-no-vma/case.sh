TITLE="mm/mempolicy: fix migrate_to_node() assuming there is at least one VMA in a MM"
CVE=CVE-2024-56611
STABLE=6.1.191
FILE=mm/mempolicy.c
OBJECT=vmlinux
# Needs a process with no VMA; the check shows the policy interface answers.
OBSERVABLE=no
CHECK='grep -c "^Mems_allowed_list:" /proc/self/status'
BUGGY='^1$'
FIXED=$BUGGY

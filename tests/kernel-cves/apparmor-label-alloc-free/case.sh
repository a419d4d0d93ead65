TITLE="apparmor: aa_label_alloc use aa_label_free on alloc failure"
CVE=""
STABLE=6.1.178
FILE=security/apparmor/label.c
OBJECT=vmlinux
# An allocation failure path; the check reads a task's label.
OBSERVABLE=no
CHECK='cat /proc/self/attr/apparmor/current'
BUGGY='^unconfined$'
FIXED=$BUGGY

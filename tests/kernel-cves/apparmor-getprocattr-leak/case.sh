TITLE="apparmor: aa_getprocattr free procattr leak on format failure"
CVE=""
STABLE=6.1.178
FILE=security/apparmor/procattr.c
OBJECT=vmlinux
# The leak is on a label that cannot be printed; the check reads a task's
# label through the patched aa_getprocattr.
OBSERVABLE=no
CHECK='cat /proc/self/attr/apparmor/current'
BUGGY='^unconfined$'
FIXED=$BUGGY

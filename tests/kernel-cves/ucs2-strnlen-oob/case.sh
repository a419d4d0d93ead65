TITLE="lib/ucs2_string.c: fix out-of-bounds read in ucs2_strnlen()"
CVE=CVE-2026-89726
STABLE=6.1.188
FILE=lib/ucs2_string.c
OBJECT=vmlinux
# Its callers are EFI variable code; the guest boots without EFI.
OBSERVABLE=no
CHECK='grep -c " ucs2_strnlen$" /proc/kallsyms'
BUGGY='^1$'
FIXED=$BUGGY

TITLE="Squashfs: check block offset is not negative"
CVE=CVE-2026-90203
STABLE=6.1.188
FILE=fs/squashfs/cache.c
OBJECT=squashfs
MODULES="squashfs"
# Needs a crafted image with a negative offset; the check shows the module
# registered.
OBSERVABLE=no
CHECK='grep -w squashfs /proc/filesystems'
BUGGY='squashfs$'
FIXED=$BUGGY

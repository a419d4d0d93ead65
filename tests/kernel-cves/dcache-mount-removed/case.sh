TITLE="dcache: don't put a mountpoint on a dentry that's being removed"
CVE=CVE-2026-98984
STABLE=6.1.191
FILE=fs/dcache.c
OBJECT=vmlinux
# A race with rmdir; the check mounts on a directory (d_set_mounted) and on
# one that is gone.
OBSERVABLE=no
SETUP='mkdir -p /mnt/dc'
CHECK='mount -t tmpfs t /mnt/dc && echo mounted && umount /mnt/dc; mkdir /mnt/gone && cd /mnt/gone && rmdir /mnt/gone && { mount -t tmpfs t . 2>/dev/null && echo "mounted on removed" || echo "refused on removed"; cd /; }'
BUGGY='^mounted
refused on removed$'
FIXED=$BUGGY

TITLE="isofs: handle set_blocksize failures"
CVE=""
STABLE=6.1.189
FILE=fs/isofs/inode.c
OBJECT=isofs
MODULES="cdrom isofs"
# isofs already refuses zone sizes below the device's block size, so
# set_blocksize cannot fail on a loop device; the check mounts nothing.
OBSERVABLE=no
CHECK='grep -w iso9660 /proc/filesystems'
BUGGY='iso9660$'
FIXED=$BUGGY

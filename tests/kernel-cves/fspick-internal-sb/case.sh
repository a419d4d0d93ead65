TITLE="fs: refuse fspick() on internal superblocks"
CVE=""
STABLE=6.1.191
FILE=fs/fsopen.c
OBJECT=vmlinux
# Internal superblocks (pipefs, sockfs...) have no path user space can name
# as a mount root; the check picks /proc through the patched fspick.
OBSERVABLE=no
CHECK='kcve fspick /proc'
BUGGY='^fspick /proc: ok$'
FIXED=$BUGGY

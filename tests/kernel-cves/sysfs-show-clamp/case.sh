TITLE="sysfs: clamp show() return value in sysfs_kf_read()"
CVE=""
STABLE=6.1.178
FILE=fs/sysfs/file.c
OBJECT=vmlinux
# No attribute of the guest returns an oversized show(); the check reads one
# through the patched sysfs_kf_read.
OBSERVABLE=no
CHECK='cat /sys/kernel/mm/transparent_hugepage/enabled'
BUGGY='\['
FIXED=$BUGGY

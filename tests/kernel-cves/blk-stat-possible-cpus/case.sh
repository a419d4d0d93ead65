TITLE="block/blk-stat: drain per-cpu callback stats over possible CPUs"
CVE=""
STABLE=6.1.188
FILE=block/blk-stat.c
OBJECT=vmlinux
MODULES="loop"
# Stats of a CPU that went offline; the check reads a loop device, whose
# write-back throttling collects stats that the patched blk_stat_timer_fn
# drains.
OBSERVABLE=no
SETUP='dd if=/dev/zero of=/tmp/blk.img bs=1k count=1024 2>/dev/null && losetup /dev/loop7 /tmp/blk.img'
CHECK='dd if=/dev/loop7 of=/dev/null bs=4k count=64 iflag=direct 2>/dev/null; sleep 1; echo read ok'
BUGGY='^read ok$'
FIXED=$BUGGY

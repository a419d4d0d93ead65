TITLE="ext4: check dir entry fits before reading the hash trailer in ext4_search_dir()"
CVE=CVE-2026-89787
STABLE=6.1.188
FILE=fs/ext4/namei.c
OBJECT=ext4
MODULES="loop ext4"
# The trailer exists only in casefolded+encrypted directories; the check
# looks names up in an ext2 image (mke2fs) through the patched ext4_search_dir.
OBSERVABLE=no
SETUP='mkdir -p /mnt/ext && dd if=/dev/zero of=/tmp/ext.img bs=1k count=2048 2>/dev/null && mke2fs -q /tmp/ext.img && mount -t ext4 -o loop /tmp/ext.img /mnt/ext && touch /mnt/ext/present && umount /mnt/ext'
CHECK='mount -t ext4 -o loop,ro /tmp/ext.img /mnt/ext && { ls /mnt/ext/present; ls /mnt/ext/absent 2>/dev/null || echo absent missing; umount /mnt/ext; }'
BUGGY='^/mnt/ext/present
absent missing$'
FIXED=$BUGGY

TITLE="minix: handle set_blocksize failures"
CVE=""
STABLE=6.1.189
FILE=fs/minix/inode.c
OBJECT=minix
MODULES="loop minix"
OBSERVABLE=yes
# A Minix v3 image whose superblock claims 3000-byte blocks (mkimage.py).
IMAGES="mkimage.py:minix-bad-blocksize.img"
SETUP='mkdir -p /mnt/minix'
CHECK='mount -t minix -o loop,ro /images/minix-bad-blocksize.img /mnt/minix 2>/dev/null && { echo mounted; umount /mnt/minix; } || echo "mount refused"'
BUGGY='^mounted$'
FIXED='^mount refused$'

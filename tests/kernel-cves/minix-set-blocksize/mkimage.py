#!/usr/bin/env python3
# mkimage.py OUT: a 64 KiB Minix v3 file system laid out in 1024-byte blocks
# (root directory with "." and "..") whose superblock claims a block size of
# 3000, which sb_set_blocksize() refuses. The vulnerable kernel ignores the
# refusal and mounts it with 1024-byte blocks; the fixed one fails the mount.
import struct, sys
BS, ZONES, NINODES, FIRSTDATA = 1024, 64, 16, 5
img = bytearray(BS * ZONES)
# Superblock (block 1): struct minix3_super_block.
struct.pack_into("<IHHHHHHIIHHHB", img, BS, NINODES, 0, 1, 1, FIRSTDATA, 0, 0, 0x7FFFFFFF, ZONES,
                 0x4D5A, 0, 3000, 0)
img[2 * BS] = 0b11   # inode map: bit 0 reserved, inode 1 (root) used
img[3 * BS] = 0b11   # zone map: bit 0 reserved, the root directory's zone used
# Inode 1 (block 4): struct minix2_inode, a directory of two 64-byte entries.
struct.pack_into("<HHHHIIII10I", img, 4 * BS, 0o040755, 2, 0, 0, 128, 0, 0, 0, FIRSTDATA, *[0] * 9)
for i, name in enumerate((b".", b"..")):
    struct.pack_into("<I60s", img, FIRSTDATA * BS + 64 * i, 1, name)
open(sys.argv[1], "wb").write(img)

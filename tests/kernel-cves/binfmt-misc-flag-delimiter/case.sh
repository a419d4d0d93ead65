TITLE="binfmt_misc: reject a flag character as the field delimiter"
CVE=CVE-2026-74485
STABLE=6.1.183
FILE=fs/binfmt_misc.c
OBJECT=binfmt_misc
MODULES="binfmt_misc"
# With 'P' as the delimiter the vulnerable parser's flag scan runs past the
# buffer (an out-of-bounds read) and the final length check still rejects
# the entry: both kernels answer EINVAL; only KASAN would tell them apart.
OBSERVABLE=no
SETUP='mount -t binfmt_misc none /proc/sys/fs/binfmt_misc'
CHECK='printf PkcvePMP0PabcPP/bin/shP > /proc/sys/fs/binfmt_misc/register 2>/dev/null && echo registered || echo refused; printf :kcve2:M::abcd::/bin/sh: > /proc/sys/fs/binfmt_misc/register && echo normal registered && echo -1 > /proc/sys/fs/binfmt_misc/kcve2'
BUGGY='^refused
normal registered$'
FIXED=$BUGGY

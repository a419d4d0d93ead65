TITLE="time: Fix off-by-one in compat settimeofday() usec validation"
CVE=""
STABLE=6.1.178
FILE=kernel/time/time.c
OBJECT=vmlinux
# The vulnerable check lets tv_usec 1000000 through, but
# do_sys_settimeofday64 then rejects the timespec made from it: both kernels
# answer EINVAL. The check sets the clock through the patched compat
# syscall (int 0x80) with the last valid value and the first invalid one.
OBSERVABLE=no
CHECK='kcve settimeofday32'
BUGGY='^compat settimeofday\(tv_usec=999999\): accepted
compat settimeofday\(tv_usec=1000000\): Invalid argument$'
FIXED=$BUGGY

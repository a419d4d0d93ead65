TITLE="timekeeping: Account for monotonicity adjustment in ntp_error"
CVE=""
STABLE=6.1.188
FILE=kernel/time/timekeeping.c
OBJECT=vmlinux
# NTP frequency adjustments; the check shows time still advances.
OBSERVABLE=no
CHECK='a=$(cut -d" " -f1 /proc/uptime); sleep 1; b=$(cut -d" " -f1 /proc/uptime); awk -v a=$a -v b=$b "BEGIN { print (b > a) ? \"time advances\" : \"time stuck\" }"'
BUGGY='^time advances$'
FIXED=$BUGGY

TITLE="net: ipv6: clear suppressed fib6 rule result"
CVE=""
STABLE=6.1.183
FILE=net/ipv6/fib6_rules.c
OBJECT=vmlinux
# Needs a policy rule with suppress_prefixlength; the check routes an IPv6
# lookup through the rules.
OBSERVABLE=no
SETUP='ip link set lo up'
CHECK='ip -6 route get ::1 | grep -o "dev lo"'
BUGGY='^dev lo$'
FIXED=$BUGGY

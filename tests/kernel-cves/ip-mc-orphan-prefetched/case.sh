TITLE="ip: orphan prefetched skbs before multicast forwarding"
CVE=CVE-2026-89564
STABLE=6.1.191
# One commit, two files (both in vmlinux): ip_mr_input and ip6_mc_input.
FILE="net/ipv4/ipmr.c net/ipv6/ip6_input.c"
OBJECT=vmlinux
# Needs multicast routing with a socket-prefetched skb; load and unload only,
# the check sends IPv4 and IPv6 loopback traffic.
OBSERVABLE=no
SETUP='ip link set lo up'
CHECK='ping -c1 -W2 127.0.0.1 >/dev/null && echo v4 ok; ping -6 -c1 -W2 ::1 >/dev/null && echo v6 ok'
BUGGY='^v4 ok
v6 ok$'
FIXED=$BUGGY

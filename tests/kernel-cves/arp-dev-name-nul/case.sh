TITLE="net: arp: terminate device name before lookup"
CVE=""
STABLE=6.1.189
FILE=net/ipv4/arp.c
OBJECT=vmlinux
OBSERVABLE=yes
# Loopback renamed to a 15-character name; arp_dev holds it plus one more
# byte and no NUL.
CHECK='kcve arpdev'
BUGGY='^SIOCGARP with an unterminated device name: No such device$'
FIXED='^SIOCGARP with an unterminated device name: No such device or address$'

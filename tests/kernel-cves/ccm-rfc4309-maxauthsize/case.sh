TITLE="crypto: ccm - Set rfc4309 maxauthsize from child"
CVE=""
STABLE=6.1.184
FILE=crypto/ccm.c
OBJECT=ccm
MODULES="ccm"
# ccm(aes)'s maxauthsize is 16 too: the rfc4309 template reports the same
# either way. The check lists the template the patched module provides.
OBSERVABLE=no
CHECK='grep -c "^module *: ccm" /proc/crypto; echo ccm-loaded'
BUGGY='ccm-loaded$'
FIXED=$BUGGY

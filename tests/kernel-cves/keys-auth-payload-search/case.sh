TITLE="keys: Check the authorization payload in process keyring searches"
CVE=""
STABLE=6.1.191
FILE=security/keys/process_keys.c
OBJECT=vmlinux
# The fixed path is a search under an instantiation authorization key whose
# payload is gone (a race with its revocation); the check finds a key through
# the patched search_process_keyrings_rcu.
OBSERVABLE=no
CHECK='kcve keys'
BUGGY='^request_key found the process keyring.s key: yes$'
FIXED=$BUGGY

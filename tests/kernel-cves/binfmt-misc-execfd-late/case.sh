TITLE="binfmt_misc: set have_execfd only once the interpreter is opened"
CVE=CVE-2026-68186
STABLE=6.1.183
FILE=fs/binfmt_misc.c
OBJECT=binfmt_misc
MODULES="binfmt_misc"
# An 'O' entry whose interpreter cannot be opened fails the exec before and
# after; the check runs a program through an 'O' entry with a working
# interpreter (load_misc_binary) and one whose interpreter is missing.
OBSERVABLE=no
SETUP='mount -t binfmt_misc none /proc/sys/fs/binfmt_misc 2>/dev/null; printf "KCVE\n" > /tmp/x.kcve; chmod +x /tmp/x.kcve; printf ":kcveo:E::kcve::/bin/true:O" > /proc/sys/fs/binfmt_misc/register; printf ":kcvem:E::kcvm::/nonexistent:O" > /proc/sys/fs/binfmt_misc/register; printf "KCVE\n" > /tmp/x.kcvm; chmod +x /tmp/x.kcvm'
CHECK='/tmp/x.kcve && echo ran via interpreter; /tmp/x.kcvm 2>/dev/null || echo missing interpreter refused'
BUGGY='^ran via interpreter
missing interpreter refused$'
FIXED=$BUGGY

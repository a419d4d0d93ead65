TITLE="mm/mlock: use the IRQ-safe accessor for NR_MLOCK in __munlock_folio()"
CVE=""
STABLE=6.1.191
FILE=mm/mlock.c
OBJECT=vmlinux
# A counter update racing with interrupts; the check locks and unlocks
# pages.
OBSERVABLE=no
CHECK='kcve mlock'
BUGGY='^mlock: ok, munlock: ok$'
FIXED=$BUGGY

# Code built with -fcf-protection starts functions with endbr64: the jump
# must go after it, so indirect calls still land on a landing pad, and the
# patched program keeps working through a function pointer too.
. "$(dirname "$0")/lib.sh"
build svc svc.c -fcf-protection=full
"$GRAFT" build --orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc" -o "$W/fix.graft" >/dev/null
start svc "$W/out"
addr=$(nm "$W/svc" | awk '$3 == "compute" {print $1}')
base=$(awk -v p="$W/svc" '$6 == p && $3 == "00000000" {split($1, a, "-"); print a[1]; exit}' /proc/"$PID"/maps)
entry=$((16#$base + 16#$addr))
head_bytes() { dd if=/proc/"$PID"/mem bs=1 skip="$entry" count=5 2>/dev/null | od -An -tx1 | tr -d ' \n'; }
before=$(head_bytes)
case "$before" in f30f1efa*) ;; *) fail "compute does not start with endbr64 ($before)";; esac
mark "$W/out"
"$GRAFT" apply "$W/fix.graft" --pid "$PID"
expect "$W/out" '^value 63$'
after=$(head_bytes)
case "$after" in f30f1efae9) ;; *) fail "the jump is not right after endbr64: $after";; esac
"$GRAFT" revert fix --pid "$PID"
[ "$(head_bytes)" = "$before" ] || fail "revert did not restore the entry"
alive "$PID"; not_stopped "$PID"
echo PASS

# Two patches on one call chain (A replaces outer(), B replaces inner() that
# outer() calls): threads sleep in B's code and return into A's. Reverting and
# re-applying A over and over must never unmap code a thread returns into:
# the unwinder walks through graft's own patch code with the patches' frame
# descriptions, and a stack it cannot read counts as busy.
. "$(dirname "$0")/lib.sh"
src=$PROGRAMS/stacked.c
gcc -O2 -g -o "$W/stacked" "$src" -pthread
for v in orig:"" a:-DFIXED_A b:-DFIXED_B; do
  gcc -O2 -g -ffunction-sections -fdata-sections ${v#*:} -c "$src" -o "$W/stacked.${v%%:*}.o"
done
"$GRAFT" build --orig "$W/stacked.orig.o" --patched "$W/stacked.a.o" --target "$W/stacked" -o "$W/a.graft" --id patch-a >/dev/null
"$GRAFT" build --orig "$W/stacked.orig.o" --patched "$W/stacked.b.o" --target "$W/stacked" -o "$W/b.graft" --id patch-b >/dev/null
start stacked "$W/out"
expect "$W/out" '^value 4$'
step "apply A (outer), then B (inner)"
"$GRAFT" apply "$W/a.graft" --pid "$PID" --timeout 30
mark "$W/out"; expect "$W/out" '^value 1004$'
"$GRAFT" apply "$W/b.graft" --pid "$PID" --timeout 30
mark "$W/out"; expect "$W/out" '^value 1202$'
step "revert and re-apply A 15 times while threads sleep in B's inner() called from A's outer()"
for i in $(seq 15); do
  "$GRAFT" revert patch-a --pid "$PID" --timeout 30 >/dev/null
  alive "$PID"
  mark "$W/out"; expect "$W/out" '^value 202$'
  "$GRAFT" apply "$W/a.graft" --pid "$PID" --timeout 30 >/dev/null
  alive "$PID"
  mark "$W/out"; expect "$W/out" '^value 1202$'
done
step "revert both"
"$GRAFT" revert patch-b --pid "$PID" --timeout 30
"$GRAFT" revert patch-a --pid "$PID" --timeout 30
mark "$W/out"; expect "$W/out" '^value 4$'
sleep 0.2; alive "$PID"; not_stopped "$PID"
grep -q "memfd:graft" /proc/"$PID"/maps && fail "patch memory left mapped"
echo PASS

# Threads that re-enter the replaced function at once (no idle moment):
# graft runs each busy thread to the return out of it, parks it there, and
# switches when all are clear. Apply and revert several times; then a thread
# that never returns (blocked in serve_forever()) is still refused.
. "$(dirname "$0")/lib.sh"
build reenter reenter.c
"$GRAFT" build --orig "$W/reenter.orig.o" --patched "$W/reenter.fixed.o" --target "$W/reenter" -o "$W/fix.graft" >/dev/null
start reenter "$W/out" 4
mark "$W/out"; expect "$W/out" '^value 42$'
for i in 1 2 3; do
  "$GRAFT" apply "$W/fix.graft" --pid "$PID" --timeout 10 || fail "apply $i gave up"
  mark "$W/out"; expect "$W/out" '^value 63$'
  "$GRAFT" revert fix --pid "$PID" --timeout 10 || fail "revert $i gave up"
  mark "$W/out"; expect "$W/out" '^value 42$'
  alive "$PID"; not_stopped "$PID"
done
step "a function a thread never returns from is still refused"
build busy busy_forever.c
"$GRAFT" build --orig "$W/busy.orig.o" --patched "$W/busy.fixed.o" --target "$W/busy" -o "$W/busy.graft" >/dev/null
start busy "$W/busy.out"
B=$PID
rc=0; "$GRAFT" apply "$W/busy.graft" --pid "$B" --timeout 2 2>"$W/err" || rc=$?
[ "$rc" = 3 ] || fail "exit status $rc, expected 3 (busy): $(cat "$W/err")"
grep -q "serve_forever" "$W/err" || fail "the refusal does not name serve_forever: $(cat "$W/err")"
alive "$B"; not_stopped "$B"
grep -q "memfd:graft" /proc/"$B"/maps && fail "patch memory left mapped"
echo PASS

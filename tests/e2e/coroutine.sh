# A coroutine suspended inside the function being replaced (its stack is
# heap memory no unwinder walks): apply waits, and gives up naming it; once
# the coroutine has left, apply works. Then the coroutine suspends inside the
# new code: revert must not unmap it (it would return into nothing), and
# works once it has left again.
. "$(dirname "$0")/lib.sh"
build coro coroutine.c
"$GRAFT" build --orig "$W/coro.orig.o" --patched "$W/coro.fixed.o" --target "$W/coro" -o "$W/fix.graft" >/dev/null
mkfifo "$W/cmd"
start coro "$W/out" "$W/cmd"
resume() { mark "$W/out"; echo r >"$W/cmd"; expect "$W/out" '^stepped$'; }
step "apply while the coroutine is suspended inside target()"
rc=0; "$GRAFT" apply "$W/fix.graft" --pid "$PID" --timeout 1 2>"$W/err" || rc=$?
cat "$W/err"
[ "$rc" = 3 ] || fail "apply exit status $rc, expected 3 (busy)"
grep -q "return address into target" "$W/err" || fail "the refusal does not name target(): $(cat "$W/err")"
grep -q "memfd:graft" /proc/"$PID"/maps && fail "patch memory left mapped"
step "the coroutine leaves target(); apply works"
resume; grep -q '^coroutine 2$' "$W/out" || fail "unexpected coroutine output"
"$GRAFT" apply "$W/fix.graft" --pid "$PID"
step "the coroutine suspends inside the new target(): revert must wait"
resume
rc=0; "$GRAFT" revert fix --pid "$PID" --timeout 1 2>"$W/err" || rc=$?
cat "$W/err"
[ "$rc" = 3 ] || fail "revert exit status $rc, expected 3 (busy)"
grep -q "patch fix's code" "$W/err" || fail "the refusal does not name the patch code: $(cat "$W/err")"
resume; tail -n +"$((MARK + 1))" "$W/out" | grep -q '^coroutine 3$' || fail "the new code did not run: $(tail -3 "$W/out")"
"$GRAFT" revert fix --pid "$PID"
resume; resume; tail -n +"$((MARK + 1))" "$W/out" | grep -q '^coroutine 2$' || fail "the old code is not back"
alive "$PID"; not_stopped "$PID"
echo PASS

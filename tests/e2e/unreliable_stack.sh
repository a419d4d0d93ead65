# A thread blocked in code without frame descriptions (a JIT-style page),
# called from the patched target(): its stack cannot be read past that frame,
# so a revert must wait (and give up), never unmap code it may return into.
. "$(dirname "$0")/lib.sh"
build jit jit_frame.c
"$GRAFT" build --orig "$W/jit.orig.o" --patched "$W/jit.fixed.o" --target "$W/jit" -o "$W/fix.graft" >/dev/null
mkfifo "$W/go" "$W/data"
start jit "$W/out" "$W/go" "$W/data"
step "apply while the thread waits outside target()"
"$GRAFT" apply "$W/fix.graft" --pid "$PID"
step "the thread enters the new target() and blocks in the JIT page"
mark "$W/out"; echo g >"$W/go"; expect "$W/out" '^calling$'; sleep 0.2
step "revert is refused: the stack is unreliable"
if "$GRAFT" revert fix --pid "$PID" --timeout 1 2>"$W/err"; then fail "revert succeeded under an unreliable stack"; fi
cat "$W/err"
grep -q "cannot be read reliably" "$W/err" || fail "unclear refusal: $(cat "$W/err")"
"$GRAFT" list --pid "$PID" | grep -q "active" || fail "the patch is no longer active"
step "the thread returns through the patched code"
mark "$W/out"; echo x >"$W/data"; expect "$W/out" '^result 101$'
alive "$PID"
step "now revert works"
"$GRAFT" revert fix --pid "$PID"
mark "$W/out"; echo g >"$W/go"; echo x >"$W/data"; expect "$W/out" '^result 1$'
alive "$PID"; not_stopped "$PID"
echo PASS

# Signal handlers: a handler that calls the patched function switches with the
# rest; a thread parked inside a handler (on top of a signal frame) does not
# stop the switch, because its stack is unwound through the frame.
. "$(dirname "$0")/lib.sh"
build svc svc.c
"$GRAFT" build --orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc" -o "$W/fix.graft" >/dev/null
start svc "$W/out"
mark "$W/out"; kill -USR1 "$PID"; expect "$W/out" '^signal 20$'
"$GRAFT" apply "$W/fix.graft" --pid "$PID"
mark "$W/out"; kill -USR1 "$PID"; expect "$W/out" '^signal 30$'
"$GRAFT" revert fix --pid "$PID"
mark "$W/out"; kill -USR1 "$PID"; expect "$W/out" '^signal 20$'

step "a thread stuck in a handler"
start svc "$W/out2" handler-spin spin 1
kill -USR1 "$PID"
wait_for "$W/out2" '^signal 20$'
"$GRAFT" apply "$W/fix.graft" --pid "$PID" --timeout 30
"$GRAFT" list --pid "$PID" --json | grep -q '"state": "active"' || fail "not active"
alive "$PID"; not_stopped "$PID"
echo PASS

# Four threads call compute() in a tight loop: graft must find a moment when
# none is inside it (retrying with backoff) and switch them all.
. "$(dirname "$0")/lib.sh"
build svc svc.c
"$GRAFT" build --orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc" -o "$W/fix.graft" >/dev/null
start svc "$W/out" spin 4
mark "$W/out"
"$GRAFT" apply "$W/fix.graft" --pid "$PID" --timeout 30 | tee "$W/apply.txt"
grep -q "applied fix" "$W/apply.txt" || fail "not applied"
expect "$W/out" '^value 63$'
mark "$W/out"
"$GRAFT" revert fix --pid "$PID" --timeout 30
sleep 0.05; mark "$W/out"
expect "$W/out" '^value 42$'
alive "$PID"; not_stopped "$PID"
echo PASS

# A non-PIE executable: absolute addresses, no load bias.
. "$(dirname "$0")/lib.sh"
build svc svc.c -fno-pie -no-pie
"$GRAFT" build --orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc" -o "$W/fix.graft" >/dev/null
start svc "$W/out" spin 1
mark "$W/out"
"$GRAFT" apply "$W/fix.graft" --pid "$PID"
expect "$W/out" '^value 63$'
"$GRAFT" revert fix --pid "$PID"
sleep 0.05; mark "$W/out"; expect "$W/out" '^value 42$'
alive "$PID"; not_stopped "$PID"
echo PASS

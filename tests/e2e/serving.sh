# 100 apply/revert cycles on a process that keeps serving TCP requests from a
# load generator: not one request may fail or get a wrong answer.
. "$(dirname "$0")/lib.sh"
build svc svc.c
gcc -O2 -o "$W/client" "$PROGRAMS/client.c" -pthread
"$GRAFT" build --orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc" -o "$W/fix.graft" >/dev/null
PORT=$((20000 + RANDOM % 20000))
start svc "$W/out" serve "$PORT"
"$W/client" "$PORT" "$W/stop" 2 >"$W/client.out" 2>&1 &
CLIENT=$!
PIDS+=("$CLIENT")
sleep 0.3
for i in $(seq 1 100); do
  "$GRAFT" apply "$W/fix.graft" --pid "$PID" --timeout 30 >/dev/null || fail "apply $i failed"
  "$GRAFT" revert fix --pid "$PID" --timeout 30 >/dev/null || fail "revert $i failed"
done
touch "$W/stop"
wait "$CLIENT" || fail "requests failed during the cycles: $(cat "$W/client.out")"
cat "$W/client.out"
grep -qE "ok=[1-9][0-9]* failed=0" "$W/client.out" || fail "no requests served: $(cat "$W/client.out")"
alive "$PID"; not_stopped "$PID"
echo PASS

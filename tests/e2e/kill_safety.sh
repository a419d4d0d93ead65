# SIGKILL graft at random moments during apply and revert, many times; every
# other time its worker process too (the one that holds the target stopped,
# runs threads out of busy functions and writes the jumps). After each kill
# the target must keep running, not be left stopped, answer every request,
# and run either all old or all new code: graft list shows the patch active
# or absent (an interrupted apply may leave an inactive mapping, which revert
# cleans up).
. "$(dirname "$0")/lib.sh"
build svc svc.c
gcc -O2 -o "$W/client" "$PROGRAMS/client.c" -pthread
"$GRAFT" build --orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc" -o "$W/fix.graft" >/dev/null
PORT=$((20000 + RANDOM % 20000))
start svc "$W/out" serve "$PORT" spin 1
"$W/client" "$PORT" "$W/stop" 2 >"$W/client.out" 2>&1 &
CLIENT=$!
PIDS+=("$CLIENT")
KILLS=${KILLS:-60}
for i in $(seq 1 "$KILLS"); do
  if "$GRAFT" list --pid "$PID" --json | grep -q '"id": "fix"'; then
    "$GRAFT" revert fix --pid "$PID" --timeout 30 >/dev/null 2>&1 &
  else
    "$GRAFT" apply "$W/fix.graft" --pid "$PID" --timeout 30 >/dev/null 2>&1 &
  fi
  G=$!
  sleep "0.0$((RANDOM % 60))"
  [ $((i % 2)) = 0 ] && pkill -9 -P "$G" 2>/dev/null || true
  kill -9 "$G" 2>/dev/null || true
  wait "$G" 2>/dev/null || true
  # A surviving worker finishes the transaction; wait for it (it holds the lock).
  flock /run/graft/"$PID".lock true
  # A worker forked just before graft died may take the lock only now, and a
  # killed one's tracees are let go by the kernel a moment after its lock:
  # "left stopped" means still stopped once no tracer is at work (2 s).
  for _ in $(seq 100); do
    ! grep -q "^TracerPid:[[:space:]]*[1-9]" /proc/"$PID"/task/*/status 2>/dev/null &&
      ! awk '{print $3}' /proc/"$PID"/task/*/stat 2>/dev/null | grep -q "[Tt]" && break
    sleep 0.02
  done
  flock /run/graft/"$PID".lock true
  alive "$PID"; not_stopped "$PID"
  state=$("$GRAFT" list --pid "$PID" --json | grep -o '"state": "[a-z]*"' || true)
  case "$state" in
    ""|*active*) ;;
    *) fail "after kill $i the patch is $state";;
  esac
  case "$state" in *partial*) fail "after kill $i the patch is partially applied";; esac
  # The newest output line must come from all-old or all-new code.
  mark "$W/out"; expect "$W/out" '^value (42|63)$'
done
touch "$W/stop"
wait "$CLIENT" || fail "requests failed: $(cat "$W/client.out")"
cat "$W/client.out"
echo "PASS ($KILLS kills)"

# SIGINT and SIGTERM to graft while it waits for a busy target: graft stops
# at the next safe point, undoes what it started (the patch mapping is
# removed), exits 128+N, and the target runs on, unpatched and not stopped.
. "$(dirname "$0")/lib.sh"
build busy busy_forever.c
"$GRAFT" build --orig "$W/busy.orig.o" --patched "$W/busy.fixed.o" --target "$W/busy" -o "$W/fix.graft" >/dev/null
start busy "$W/out"
for sig in INT TERM; do
  step "SIG$sig during a busy wait"
  "$GRAFT" apply "$W/fix.graft" --pid "$PID" --timeout 60 2>"$W/err" &
  G=$!
  # Wait until graft's patch mapping exists (it is retrying), then interrupt.
  end=$((SECONDS + 10))
  until grep -q "memfd:graft" /proc/"$PID"/maps; do [ $SECONDS -lt $end ] || fail "graft never mapped its patch"; sleep 0.02; done
  sleep 0.3
  t0=$(date +%s%N)
  kill -s "$sig" "$G"
  rc=0; wait "$G" || rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  cat "$W/err"
  want=$((128 + $(kill -l "$sig")))
  [ "$rc" = "$want" ] || fail "exit status $rc, expected $want"
  [ "$ms" -lt 3000 ] || fail "graft took $ms ms to stop"
  grep -q "interrupted" "$W/err" || fail "no word of the interruption: $(cat "$W/err")"
  sleep 0.1
  # The worker has finished too: nothing of the patch is left in the target.
  pgrep -f "graft apply $W/fix.graft" && fail "a graft worker is still running"
  grep -q "memfd:graft" /proc/"$PID"/maps && fail "patch memory left mapped after SIG$sig"
  alive "$PID"; not_stopped "$PID"
  echo "stopped in $ms ms, exit $rc"
done
echo PASS

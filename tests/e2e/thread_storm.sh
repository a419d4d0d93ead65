# A function that threads keep being created inside (each thread starts the
# next and stays until it has entered too), under CPU load: some thread is
# always inside hot(), so every apply must give up, naming the function, and
# leave the process running, unpatched and not stopped. A regression test for
# stopping under thread churn; it does not isolate the thread-count check.
. "$(dirname "$0")/lib.sh"
build storm thread_storm.c
"$GRAFT" build --orig "$W/storm.orig.o" --patched "$W/storm.fixed.o" --target "$W/storm" -o "$W/fix.graft" >/dev/null
start storm "$W/out" 3
load=()
for i in 1 2; do (while :; do :; done) & load+=($!); PIDS+=($!); done
for i in $(seq 8); do
  if "$GRAFT" apply "$W/fix.graft" --pid "$PID" --timeout 0.5 2>"$W/err"; then
    fail "apply $i reported success although threads are always inside hot()"
  fi
  grep -q "gave up" "$W/err" || fail "unexpected error: $(cat "$W/err")"
  grep -q "hot" "$W/err" || fail "the refusal does not name hot(): $(cat "$W/err")"
  alive "$PID"; not_stopped "$PID"
done
kill "${load[@]}"
"$GRAFT" list --pid "$PID" | grep -q "no live patches" || fail "a patch is left behind"
mark "$W/out"; expect "$W/out" '^entered' 3
echo PASS

# graftd and its start-up agent: processes started after a patch was
# installed run the fixed code from their very first call (the probe is
# main()'s first line), for a fix to the program and a fix to a library it
# links. libgraft-agent.so (LD_PRELOAD here; /etc/ld.so.preload on a host)
# finds the patched build-ids among the loaded objects and waits in its
# constructor while graftd applies the installed bundles. 200 processes in
# batches of 8 at once. With graftd stopped, a new process is not held: it
# runs unpatched at once with one line on stderr; with graftd frozen, the
# wait ends after GRAFT_AGENT_TIMEOUT_MS. A process that maps nothing
# patched does not talk to graftd at all.
. "$(dirname "$0")/lib.sh"
AGENT=$(dirname "$GRAFT")/libgraft-agent.so
[ -f "$AGENT" ] || fail "no $AGENT (built with graft)"
N=${GRAFTD_PROCESSES:-200}
unset GRAFT_ALLOW_UNSIGNED
export GRAFT_STATE_DIR=$W/state GRAFT_KEYS_DIR=$W/keys GRAFT_AGENT_DIR=$W/run
cd "$W"
gcc -O2 -g -fPIC -shared -o libdemo.so "$PROGRAMS/libdemo.c"
gcc -O2 -g -fPIC -ffunction-sections -fdata-sections -c "$PROGRAMS/libdemo.c" -o libdemo.orig.o
gcc -O2 -g -fPIC -ffunction-sections -fdata-sections -DFIXED -c "$PROGRAMS/libdemo.c" -o libdemo.fixed.o
gcc -O2 -g -o first "$PROGRAMS/first_call.c" -L. -ldemo -Wl,-rpath,"$W"
gcc -O2 -g -ffunction-sections -fdata-sections -c "$PROGRAMS/first_call.c" -o first.orig.o
gcc -O2 -g -ffunction-sections -fdata-sections -DFIXED -c "$PROGRAMS/first_call.c" -o first.fixed.o
"$GRAFT" build --orig first.orig.o --patched first.fixed.o --target first -o first.graft --id first-fix >/dev/null
"$GRAFT" build --orig libdemo.orig.o --patched libdemo.fixed.o --target libdemo.so -o lib.graft --id lib-fix >/dev/null
"$GRAFT" keygen ops --dir "$W/keys" >/dev/null
"$GRAFT" sign first.graft lib.graft --key "$W/keys/ops.key" >/dev/null
[ "$(./first)" = "compute 42 lib 2" ] || fail "unpatched output: $(./first)"

step "graftd up, bundles installed"
"$GRAFT" daemon --interval 3600 >graftd.log 2>&1 &
GD=$!
PIDS+=("$GD")
for _ in $(seq 100); do [ -S "$W/run/agent.sock" ] && break; sleep 0.05; done
[ -S "$W/run/agent.sock" ] || fail "graftd did not listen: $(cat graftd.log)"
"$GRAFT" install first.graft lib.graft >/dev/null
grep -c . "$W/run/agent.index" | grep -qx 2 || fail "agent index: $(cat "$W/run/agent.index")"

step "$N new processes answer the fixed way from their first call"
start_ns=$(date +%s%N)
seq "$N" | xargs -P 8 -I{} env LD_PRELOAD="$AGENT" ./first >answers.txt 2>agent-errors.txt
end_ns=$(date +%s%N)
fixed=$(grep -cx "compute 63 lib 1001" answers.txt || true)
echo "fixed answers: $fixed of $N in $(( (end_ns - start_ns) / 1000000 )) ms" \
  "($(python3 -c "print(round($N / (($end_ns - $start_ns) / 1e9), 1))") processes/s)"
[ "$fixed" = "$N" ] || fail "$((N - fixed)) processes ran unpatched code: $(sort answers.txt | uniq -c) $(head -3 agent-errors.txt)"
[ ! -s agent-errors.txt ] || fail "agent messages: $(head -3 agent-errors.txt)"
[ "$(grep -c "new process: process .*applied first-fix" graftd.log)" = "$N" ] || fail "graftd log: $(tail -3 graftd.log)"

step "a process mapping nothing patched does not ask graftd"
before=$(grep -c "new process" graftd.log)
LD_PRELOAD="$AGENT" /bin/true
[ "$(grep -c "new process" graftd.log)" = "$before" ] || fail "graftd was asked about /bin/true"

step "graftd frozen: the wait ends after GRAFT_AGENT_TIMEOUT_MS"
kill -STOP "$GD"
t0=$(date +%s%N)
out=$(GRAFT_AGENT_TIMEOUT_MS=400 LD_PRELOAD="$AGENT" ./first 2>err.txt)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill -CONT "$GD"
[ "$out" = "compute 42 lib 2" ] || fail "frozen graftd: $out"
grep -q "graftd did not answer within 400 ms: it runs unpatched" err.txt || fail "no timeout message: $(cat err.txt)"
[ "$ms" -lt 3000 ] || fail "held for $ms ms"
echo "held $ms ms with graftd frozen (timeout 400 ms)"

step "graftd stopped: no wait, one line on stderr"
kill "$GD"; wait "$GD" 2>/dev/null || true
[ ! -e "$W/run/agent.sock" ] || fail "graftd left its socket"
t0=$(date +%s%N)
out=$(LD_PRELOAD="$AGENT" ./first 2>err.txt)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$out" = "compute 42 lib 2" ] || fail "graftd down: $out"
grep -q "graftd is not reachable at $W/run/agent.sock" err.txt || fail "no message: $(cat err.txt)"
[ "$ms" -lt 1000 ] || fail "held for $ms ms with graftd down"
echo "started in $ms ms with graftd down"

step "graftd restarted: picks up the installed bundles"
"$GRAFT" daemon --interval 3600 >graftd2.log 2>&1 &
GD=$!
PIDS+=("$GD")
for _ in $(seq 100); do [ -S "$W/run/agent.sock" ] && break; sleep 0.05; done
[ "$(LD_PRELOAD="$AGENT" ./first)" = "compute 63 lib 1001" ] || fail "after restart"
echo PASS

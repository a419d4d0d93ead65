# graftd and the agent's dlopen hook: a library dlopened after start, whose
# fix is installed, answers the fixed way on the caller's very first call.
# The program dlopens libdemo.so by bare name, found only through its own
# RUNPATH — which glibc honours only if it sees the program, not the agent,
# as dlopen's caller — and calls lib_value() at once: 200 processes (8 at a
# time), then 50 processes of 8 threads dlopening at the same moment, then
# dlmopen into the base namespace, then a library whose constructor dlopens
# libdemo.so (nested dlopen), also from a very small program. Each process
# asks graftd exactly once (its RTLD_NOLOAD reopen and an unrelated dlopen
# afterwards do not ask again). A thread parked inside dlopen is unwound
# through the hook and patched at once. With graftd frozen the dlopen
# returns after GRAFT_AGENT_TIMEOUT_MS with a message; with graftd stopped
# it returns at once with a message; the old answer both times.
. "$(dirname "$0")/lib.sh"
AGENT=$(dirname "$GRAFT")/libgraft-agent.so
[ -f "$AGENT" ] || fail "no $AGENT (built with graft)"
N=${GRAFTD_PROCESSES:-200}
unset GRAFT_ALLOW_UNSIGNED
export GRAFT_STATE_DIR=$W/state GRAFT_KEYS_DIR=$W/keys GRAFT_AGENT_DIR=$W/run
cd "$W"
mkdir lib
gcc -O2 -g -fPIC -shared -o lib/libdemo.so "$PROGRAMS/libdemo.c"
gcc -O2 -g -fPIC -ffunction-sections -fdata-sections -c "$PROGRAMS/libdemo.c" -o libdemo.orig.o
gcc -O2 -g -fPIC -ffunction-sections -fdata-sections -DFIXED -c "$PROGRAMS/libdemo.c" -o libdemo.fixed.o
gcc -O2 -g -fPIC -shared -o lib/libnest.so "$PROGRAMS/libnest.c" -Wl,-rpath,'$ORIGIN'
gcc -O2 -g -fPIC -shared -o lib/libslow.so "$PROGRAMS/libslow.c"
gcc -O2 -g -o dlopener "$PROGRAMS/dlopen_first_call.c" -pthread -Wl,-rpath,'$ORIGIN/lib'
gcc -O2 -g -o dlopener-linked "$PROGRAMS/dlopen_first_call.c" -pthread -Wl,-rpath,'$ORIGIN/lib' \
  -Wl,--no-as-needed -Llib -ldemo
gcc -O2 -o dlopen-small "$PROGRAMS/dlopen_small.c" -Wl,-rpath,'$ORIGIN/lib'
readelf -d dlopener | grep -q RUNPATH || fail "the program has no RUNPATH"
"$GRAFT" build --orig libdemo.orig.o --patched libdemo.fixed.o --target lib/libdemo.so -o lib.graft --id lib-fix >/dev/null
"$GRAFT" keygen ops --dir "$W/keys" >/dev/null
"$GRAFT" sign lib.graft --key "$W/keys/ops.key" >/dev/null

step "the hook keeps dlopen's caller: a bare name is found through the program's RUNPATH"
[ "$(LD_PRELOAD="$AGENT" ./dlopener libdemo.so lib_value)" = "lib_value 2" ] || \
  fail "with the agent: $(LD_PRELOAD="$AGENT" ./dlopener libdemo.so lib_value 2>&1)"
[ "$(LD_PRELOAD="$AGENT" ./dlopener libnest.so nest_value)" = "nest_value 2" ] || \
  fail "nested, with the agent: $(LD_PRELOAD="$AGENT" ./dlopener libnest.so nest_value 2>&1)"

step "graftd up, the library's fix installed"
"$GRAFT" daemon --interval 3600 >graftd.log 2>&1 &
GD=$!
PIDS+=("$GD")
for _ in $(seq 100); do [ -S "$W/run/agent.sock" ] && break; sleep 0.05; done
[ -S "$W/run/agent.sock" ] || fail "graftd did not listen: $(cat graftd.log)"
"$GRAFT" install lib.graft >/dev/null
grep -c . "$W/run/agent.index" | grep -qx 1 || fail "agent index: $(cat "$W/run/agent.index")"

# run1 ARGS: one process with the agent; a failing exit shows in its output.
printf '#!/bin/sh\nLD_PRELOAD="%s" ./dlopener "$@" || echo "exit status $?"\n' "$AGENT" >run1
chmod +x run1

# requests: how many processes graftd patched on request so far.
requests() { grep -c "new process: process .*applied lib-fix" graftd.log || true; }

step "$N processes dlopen the library and answer the fixed way on their first call"
start_ns=$(date +%s%N)
seq "$N" | xargs -P 8 -I{} ./run1 libdemo.so lib_value >answers.txt 2>agent-errors.txt
end_ns=$(date +%s%N)
fixed=$(grep -cx "lib_value 1001" answers.txt || true)
echo "fixed answers: $fixed of $N in $(( (end_ns - start_ns) / 1000000 )) ms"
[ "$fixed" = "$N" ] || fail "$((N - fixed)) first calls ran unpatched code: $(sort answers.txt | uniq -c) $(head -3 agent-errors.txt)"
[ "$(wc -l <answers.txt)" = "$N" ] || fail "unexpected output: $(sort answers.txt | uniq -c)"
[ ! -s agent-errors.txt ] || fail "agent messages: $(head -3 agent-errors.txt)"
[ "$(requests)" = "$N" ] || fail "graftd patched $(requests) processes on request, expected $N (one each): $(tail -3 graftd.log)"

step "50 processes of 8 threads dlopening at the same moment"
before=$(requests)
seq 50 | xargs -P 4 -I{} ./run1 libdemo.so lib_value 8 >answers8.txt 2>agent-errors.txt
fixed=$(grep -cx "lib_value 1001" answers8.txt || true)
echo "fixed answers: $fixed of 400 threads"
[ "$fixed" = 400 ] || fail "$((400 - fixed)) threads ran unpatched code: $(sort answers8.txt | uniq -c) $(head -3 agent-errors.txt)"
[ "$(wc -l <answers8.txt)" = 400 ] || fail "unexpected output: $(sort answers8.txt | uniq -c)"
[ ! -s agent-errors.txt ] || fail "agent messages: $(head -3 agent-errors.txt)"
[ "$(( $(requests) - before ))" = 50 ] || fail "graftd was asked $(( $(requests) - before )) times for 50 processes"

step "dlmopen into the base namespace"
seq 10 | xargs -P 4 -I{} ./run1 libdemo.so lib_value 1 dlmopen >dlmopen.txt 2>agent-errors.txt
[ "$(grep -cx "lib_value 1001" dlmopen.txt)" = 10 ] || fail "dlmopen: $(sort dlmopen.txt | uniq -c) $(head -3 agent-errors.txt)"

step "nested: a library's constructor dlopens the patched library and calls it"
seq 20 | xargs -P 4 -I{} ./run1 libnest.so nest_value >nested.txt 2>agent-errors.txt
[ "$(grep -cx "nest_value 1001" nested.txt)" = 20 ] || fail "nested: $(sort nested.txt | uniq -c) $(head -3 agent-errors.txt)"

step "a small program (maybe no exact return to borrow): patched before dlopen returns, no stall"
t0=$(date +%s%N)
out=$(LD_PRELOAD="$AGENT" ./dlopen-small 2>&1)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
# The constructor's own call may run before the patch (the window); the
# caller's call after dlopen returns may not.
case "$out" in "nested "*" then 1001") ;; *) fail "small program: $out" ;; esac
[ "$ms" -lt 3000 ] || fail "small program held $ms ms"
echo "$out ($ms ms)"

step "a thread parked inside dlopen (under the hook) is unwound and the process patched at once"
"$GRAFT" uninstall lib-fix >/dev/null
LD_PRELOAD="$AGENT" ./dlopener-linked libslow.so slow_value >slow.txt 2>&1 &
SLOW=$!
PIDS+=("$SLOW")
sleep 1  # its constructor sleeps 4 s inside dlopen
t0=$(date +%s%N)
"$GRAFT" apply lib.graft --pid "$SLOW" >apply.txt 2>&1 || fail "apply with a thread inside dlopen: $(cat apply.txt)"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "applied in $ms ms with a thread inside dlopen: $(head -1 apply.txt)"
[ "$ms" -lt 3000 ] || fail "apply waited $ms ms: the stack through the hook was not read"
wait "$SLOW"
[ "$(cat slow.txt)" = "slow_value 1" ] || fail "slow: $(cat slow.txt)"
"$GRAFT" install lib.graft >/dev/null

step "graftd frozen: dlopen returns after GRAFT_AGENT_TIMEOUT_MS"
kill -STOP "$GD"
t0=$(date +%s%N)
out=$(GRAFT_AGENT_TIMEOUT_MS=400 LD_PRELOAD="$AGENT" ./dlopener libdemo.so lib_value 2>err.txt)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill -CONT "$GD"
[ "$out" = "lib_value 2" ] || fail "frozen graftd: $out"
grep -q 'dlopen("libdemo.so"): graftd did not answer within 400 ms: it runs unpatched' err.txt || \
  fail "no timeout message: $(cat err.txt)"
[ "$ms" -lt 3000 ] || fail "held for $ms ms"
echo "held $ms ms with graftd frozen (timeout 400 ms): $(cat err.txt)"

step "graftd stopped: dlopen returns at once, one line on stderr"
kill "$GD"; wait "$GD" 2>/dev/null || true
t0=$(date +%s%N)
out=$(LD_PRELOAD="$AGENT" ./dlopener libdemo.so lib_value 2>err.txt)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$out" = "lib_value 2" ] || fail "graftd down: $out"
grep -q "dlopen(\"libdemo.so\") maps a patched object (build-id .*) but graftd is not reachable at $W/run/agent.sock" err.txt || \
  fail "no message: $(cat err.txt)"
[ "$(wc -l <err.txt)" = 1 ] || fail "more than one message: $(cat err.txt)"
[ "$ms" -lt 1000 ] || fail "held for $ms ms with graftd down"
echo "returned in $ms ms with graftd down: $(cat err.txt)"
echo PASS

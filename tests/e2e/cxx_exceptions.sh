# C++ exceptions thrown inside patched code unwind through it: the bundle
# carries the new code's frame descriptions and graft registers them with the
# process's unwinder (libgcc) before switching, and unregisters them on revert.
# Without that the C++ runtime finds no frame for the new code and aborts.
. "$(dirname "$0")/lib.sh"
cd "$W"
g++ -O2 -g -o thrower "$PROGRAMS/thrower.cc"
g++ -O2 -g -ffunction-sections -fdata-sections -c "$PROGRAMS/thrower.cc" -o orig.o
g++ -O2 -g -ffunction-sections -fdata-sections -DFIXED -c "$PROGRAMS/thrower.cc" -o fixed.o
"$GRAFT" build --orig orig.o --patched fixed.o --target thrower -o fix.graft | tee b.txt
grep -q "replaces  _Z5price" b.txt || fail "price not replaced"
start thrower "$W/out"
wait_for "$W/out" '^price -25$'      # the bug: a negative quantity is priced
mark "$W/out"
"$GRAFT" apply fix.graft --pid "$PID"
expect "$W/out" '^error refused quantity for apple$'   # thrown in the new code, caught in main
mark "$W/out"; sleep 0.3
alive "$PID"
after=$(tail -n +"$((MARK + 1))" "$W/out")
grep -q '^price -25$' <<<"$after" && fail "negative quantities still priced after the patch: $after"
[ "$(grep -c '^error refused' <<<"$after")" -ge 2 ] || fail "exceptions did not keep passing through the new code: $after"
"$GRAFT" revert fix --pid "$PID"
mark "$W/out"; expect "$W/out" '^price -25$'
alive "$PID"; not_stopped "$PID"

step "the same with three threads throwing all the time (often inside the unwinder)"
start thrower "$W/busy" 3
wait_for "$W/busy" '^price -25$'
"$GRAFT" apply fix.graft --pid "$PID"
mark "$W/busy"; expect "$W/busy" '^error refused quantity for apple$'
sleep 0.2; alive "$PID"
"$GRAFT" revert fix --pid "$PID"
mark "$W/busy"; expect "$W/busy" '^price -25$'
alive "$PID"; not_stopped "$PID"
echo PASS

# Patched code that reads a variable of a shared library the program never
# used (glibc's opterr: no copy relocation in the program). Through the GOT
# (a program built with -fPIC) the patch gets a GOT slot of its own; a 32-bit
# PC-relative access (the default for a PIE) cannot reach a library: graft
# moves that instruction out of line into a thunk that reads the variable's
# address from a pointer cell of the patch (tests/e2e/far_data.sh covers the
# instruction forms).
. "$(dirname "$0")/lib.sh"
cd "$W"
step "PIE built with -fPIC: through a GOT slot of the patch"
build xd extern_data.c -fPIC
"$GRAFT" build --orig xd.orig.o --patched xd.fixed.o --target xd -o xd.graft >/dev/null
start xd out
wait_for out '^status 3$'
mark out
"$GRAFT" apply xd.graft --pid "$PID"
expect out '^status 1009$'  # 1000 * opterr (1) + n
"$GRAFT" revert xd --pid "$PID"
alive "$PID"; not_stopped "$PID"

step "default PIE: through a pointer cell of the patch"
build xd2 extern_data.c
"$GRAFT" build --orig xd2.orig.o --patched xd2.fixed.o --target xd2 -o xd2.graft >/dev/null
start xd2 out2
wait_for out2 '^status 3$'
mark out2
"$GRAFT" apply xd2.graft --pid "$PID"
expect out2 '^status 1009$'
"$GRAFT" revert xd2 --pid "$PID"
mark out2
expect out2 '^status 9$'
alive "$PID"; not_stopped "$PID"
echo PASS

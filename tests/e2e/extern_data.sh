# Patched code that reads a variable of a shared library the program never
# used (glibc's opterr: no copy relocation in the program). Through the GOT
# (a program built with -fPIC) the patch gets a GOT slot of its own; a 32-bit
# PC-relative access (the default for a PIE) cannot reach a library and is
# refused when the bundle is built, naming the variable, not when applied.
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

step "default PIE: refused at build time, naming the variable"
build xd2 extern_data.c
if "$GRAFT" build --orig xd2.orig.o --patched xd2.fixed.o --target xd2 -o xd2.graft 2>err; then
  fail "built a patch whose PC-relative access to opterr cannot reach glibc"
fi
grep -q "'status' refers to 'opterr'" err && grep -q -- "-fPIC" err || fail "unclear error: $(cat err)"
echo PASS

# A function inside a shared library, patched with --all in two processes
# that have the library loaded, then reverted in both.
. "$(dirname "$0")/lib.sh"
cd "$W"
gcc -O2 -g -fPIC -shared -o libdemo.so "$PROGRAMS/libdemo.c"
gcc -O2 -g -fPIC -ffunction-sections -fdata-sections -c "$PROGRAMS/libdemo.c" -o libdemo.orig.o
gcc -O2 -g -fPIC -ffunction-sections -fdata-sections -DFIXED -c "$PROGRAMS/libdemo.c" -o libdemo.fixed.o
gcc -O2 -g -o libuser "$PROGRAMS/libuser.c" -L. -ldemo -Wl,-rpath,"$W"
"$GRAFT" build --orig libdemo.orig.o --patched libdemo.fixed.o --target libdemo.so -o libfix.graft --cve CVE-2099-2000 >/dev/null
start libuser "$W/a"; A=$PID
start libuser "$W/b"; B=$PID
mark "$W/a"
"$GRAFT" apply libfix.graft --all | tee apply.txt
grep -q "process $A: applied" apply.txt && grep -q "process $B: applied" apply.txt || fail "not applied to both"
expect "$W/a" '^lib 1001$'; MARK=$(wc -l <"$W/b"); expect "$W/b" '^lib 1001$'
test "$("$GRAFT" list --json | grep -c '"id": "libfix"')" -eq 2 || fail "list does not show both"
"$GRAFT" revert libfix --all
sleep 0.05; mark "$W/a"; expect "$W/a" '^lib 2$'
alive "$A"; alive "$B"; not_stopped "$A"; not_stopped "$B"
echo PASS

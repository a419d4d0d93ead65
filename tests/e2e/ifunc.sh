# Patched code that calls IFUNCs must reach the implementation the resolver
# picked, not the resolver: an IFUNC of the program itself (PIE and non-PIE),
# strchr from glibc that the program never called, and an IFUNC of another
# library that the program never called (found in the process's GOT).
. "$(dirname "$0")/lib.sh"
cd "$W"
gcc -O2 -g -fPIC -shared -o libifunc.so "$PROGRAMS/ifunc_lib.c"
gcc -O2 -g -ffunction-sections -fdata-sections -c "$PROGRAMS/ifunc.c" -o ifunc.orig.o
gcc -O2 -g -ffunction-sections -fdata-sections -DFIXED -c "$PROGRAMS/ifunc.c" -o ifunc.fixed.o
for pie in -pie -no-pie; do
  step "program built with $pie"
  gcc -O2 -g $pie -o ifunc$pie "$PROGRAMS/ifunc.c" -L. -lifunc -Wl,-rpath,"$W" -pthread
  "$GRAFT" build --orig ifunc.orig.o --patched ifunc.fixed.o --target ifunc$pie -o fix$pie.graft >/dev/null
  start ifunc$pie out$pie
  wait_for out$pie '^measure 27$'
  mark out$pie
  "$GRAFT" apply fix$pie.graft --pid "$PID"
  # 1000 + scale(3) + lib_triple(100)
  expect out$pie '^measure 1309$'
  tail -n +"$((MARK + 1))" out$pie | grep -vE '^measure (27|1309)$' && fail "a call reached a resolver"
  "$GRAFT" revert fix$pie --pid "$PID"
  alive "$PID"; not_stopped "$PID"
done
echo PASS

# Patched code that uses thread-local variables: in a PIE and a non-PIE
# executable (local-exec), in a shared library (general/local-dynamic through
# __tls_get_addr) and in one built with -ftls-model=initial-exec. Five threads
# each count in their own storage; the first value a thread reports after the
# patch must continue its own count with its own id (the same storage, not a
# copy). A fix that adds a thread-local variable is refused.
. "$(dirname "$0")/lib.sh"
cd "$W"

# check_threads FILE: per thread, the patched values continue the unpatched count.
check_threads() {
  for id in 1 2 3 4 5; do wait_for "$1" "^t$id 1[0-9]{6}$" 5; done
  awk '/^t[0-9] [0-9]+$/ {
      id = substr($1, 2); v = $2
      if (v < 1000000) {
        if (id in after) { print "thread " id ": unpatched value after a patched one"; bad = 1 }
        before[id] = v - id * 10000
      } else if (!(id in after)) {
        after[id] = v - 1000000 - id * 10000 - 7000
        if (after[id] != before[id] + 1) {
          print "thread " id ": count " before[id] " before the patch but " after[id] " after: not its own storage"
          bad = 1
        }
      }
    }
    END { exit bad }' "$1" || fail "thread-local state not shared with the running threads (see above)"
}

# run_patch NAME BUNDLE OUT: start $W/NAME, apply BUNDLE, check every thread, revert.
run_patch() {
  start "$1" "$3"
  wait_for "$3" '^t5 50003$'
  "$GRAFT" apply "$2" --pid "$PID"
  check_threads "$3"
  "$GRAFT" revert "$(basename "$2" .graft)" --pid "$PID"
  alive "$PID"; not_stopped "$PID"
}

step "executable (PIE), local-exec"
build tls tls_counter.c
"$GRAFT" build --orig tls.orig.o --patched tls.fixed.o --target tls -o tls_pie.graft | grep -q "replaces  tick" ||
  fail "tick not replaced"
run_patch tls tls_pie.graft pie.out

step "executable (non-PIE), local-exec"
gcc -O2 -g -no-pie -o tls_nopie "$PROGRAMS/tls_counter.c" -pthread
"$GRAFT" build --orig tls.orig.o --patched tls.fixed.o --target tls_nopie -o tls_nopie.graft >/dev/null
run_patch tls_nopie tls_nopie.graft nopie.out

for model in dynamic initial-exec; do
  step "shared library, $model"
  flags=(-O2 -g -fPIC -DLIB)
  [ $model = initial-exec ] && flags+=(-ftls-model=initial-exec)
  mkdir -p $model
  gcc "${flags[@]}" -shared -o $model/libtls.so "$PROGRAMS/tls_counter.c"
  gcc "${flags[@]}" -ffunction-sections -fdata-sections -c "$PROGRAMS/tls_counter.c" -o $model/orig.o
  gcc "${flags[@]}" -ffunction-sections -fdata-sections -DFIXED -c "$PROGRAMS/tls_counter.c" -o $model/fixed.o
  gcc -O2 -g -o tls_user_$model "$PROGRAMS/tls_user.c" -L$model -ltls -Wl,-rpath,"$W/$model" -pthread
  "$GRAFT" build --orig $model/orig.o --patched $model/fixed.o --target $model/libtls.so -o lib_$model.graft >/dev/null
  run_patch tls_user_$model lib_$model.graft $model.out
done

step "a new thread-local variable is refused"
sed 's/^__attribute__((noinline)) long tick(void) {$/__thread long tls_new;\n&/; s/^  tls_count++;$/&\n  tls_new++;/' \
  "$PROGRAMS/tls_counter.c" >new_tls.c
gcc -O2 -g -ffunction-sections -fdata-sections -DFIXED -c new_tls.c -o new_tls.o
if "$GRAFT" build --orig tls.orig.o --patched new_tls.o --target tls -o x.graft 2>err; then
  fail "built a patch that adds a thread-local variable"
fi
grep -q "thread-local variable 'tls_new'" err && grep -q "no storage" err || fail "unclear error: $(cat err)"
echo PASS

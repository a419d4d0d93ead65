# A patched function that dispatches through a jump table (one case in its
# cold part) and another through a computed goto's label table, at -O2 and
# -O3, PIE and non-PIE: after apply the running program calls every case and
# must print what the fixed program prints; after revert, what the original does.
. "$(dirname "$0")/lib.sh"

scenario() {
  local name=$1; shift
  step "$name: $*"
  build "$name" switchy.c "$@"
  gcc -O2 -g "$@" -DFIXED -o "$W/$name.fixedprog" "$PROGRAMS/switchy.c"
  local before after
  before=$("$W/$name" once)
  after=$("$W/$name.fixedprog" once)
  [ "$before" != "$after" ] || fail "$name: the fixed program prints the same: $before"
  "$GRAFT" build --orig "$W/$name.orig.o" --patched "$W/$name.fixed.o" --target "$W/$name" \
    -o "$W/$name.graft" >"$W/$name.build.txt" || fail "$name: build failed"
  grep -q "replaces  classify" "$W/$name.build.txt" && grep -q "replaces  interp" "$W/$name.build.txt" ||
    fail "$name: classify and interp not both replaced: $(cat "$W/$name.build.txt")"
  start "$name" "$W/$name.out"
  wait_for "$W/$name.out" "^${before//|/\\|}\$"
  mark "$W/$name.out"
  "$GRAFT" apply "$W/$name.graft" --pid "$PID"
  sleep 0.1
  alive "$PID"
  expect "$W/$name.out" "^${after//|/\\|}\$"
  # Every round after the switch prints the fixed results, nothing else.
  mark "$W/$name.out"; sleep 0.1
  tail -n +"$((MARK + 1))" "$W/$name.out" | grep -v "^all" && fail "$name: unexpected output"
  tail -n +"$((MARK + 1))" "$W/$name.out" | grep -vxF "$after" | grep -q . &&
    fail "$name: after apply a round differs from the fixed program: $(tail -2 "$W/$name.out")"
  "$GRAFT" revert "$name" --pid "$PID"
  sleep 0.05; mark "$W/$name.out"
  expect "$W/$name.out" "^${before//|/\\|}\$"
  alive "$PID"; not_stopped "$PID"
  kill "$PID"
}

scenario sw_o2_pie
scenario sw_o3_pie -O3
scenario sw_o2_nopie -fno-pie -no-pie
scenario sw_o3_nopie -O3 -fno-pie -no-pie
echo PASS

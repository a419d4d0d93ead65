# A patch replacing 60 functions: its in-process record is larger than one
# page, and graft list / revert must still read it whole (a 4 KB read used to
# skip it: "not applied" while the patch stayed mapped).
. "$(dirname "$0")/lib.sh"
src=$W/many.c
{
  echo '#include <stdio.h>'
  echo '#include <unistd.h>'
  for i in $(seq 0 59); do
    echo "volatile int sink_$i; __attribute__((noinline)) int function_with_a_long_name_number_$i(int x) { sink_$i = x; return sink_$i * 3 + $i + DELTA; }"
  done
  echo 'int main(void) { printf("ready\n"); fflush(stdout); for (;;) { int s = 0;'
  for i in $(seq 0 59); do echo "s += function_with_a_long_name_number_$i(1);"; done
  echo 'printf("sum %d\n", s); fflush(stdout); usleep(20000); } }'
} >"$src"
gcc -O2 -g -DDELTA=0 -o "$W/many" "$src"
gcc -O2 -g -DDELTA=0 -ffunction-sections -fdata-sections -c "$src" -o "$W/many.orig.o"
gcc -O2 -g -DDELTA=1 -ffunction-sections -fdata-sections -c "$src" -o "$W/many.fixed.o"
"$GRAFT" build --orig "$W/many.orig.o" --patched "$W/many.fixed.o" --target "$W/many" -o "$W/big.graft" >/dev/null
"$GRAFT" info "$W/big.graft" --json | grep -c '"name"' | grep -qx 60 || fail "the bundle does not replace 60 functions"
start many "$W/out"
mark "$W/out"; expect "$W/out" '^sum 1950$'
"$GRAFT" apply "$W/big.graft" --pid "$PID"
mark "$W/out"; expect "$W/out" '^sum 2010$'
"$GRAFT" list --pid "$PID" --json >"$W/list.json"
grep -q '"state": "active"' "$W/list.json" || fail "graft list does not show the patch"
[ "$(grep -c '"new_address"' "$W/list.json")" = 60 ] || fail "graft list does not show 60 functions"
"$GRAFT" revert big --pid "$PID"
mark "$W/out"; expect "$W/out" '^sum 1950$'
grep -q "memfd:graft" /proc/"$PID"/maps && fail "patch memory left mapped"
alive "$PID"; not_stopped "$PID"
echo PASS

# A fix that only changes a string literal, in programs whose literals share
# one plain .rodata (-O0, -fno-merge-constants): the function using it is
# replaced and carries the new text; the variable pointing to an unchanged
# literal that merely moved is not taken for a changed variable.
. "$(dirname "$0")/lib.sh"
cd "$W"
for flags in -O0 "-O2 -fno-merge-constants"; do
  step "built with $flags"
  name=literal$(echo "$flags" | tr -d ' ')
  gcc $flags -g -o $name "$PROGRAMS/literal.c" -pthread
  gcc $flags -g -ffunction-sections -fdata-sections -c "$PROGRAMS/literal.c" -o $name.orig.o
  gcc $flags -g -ffunction-sections -fdata-sections -DFIXED -c "$PROGRAMS/literal.c" -o $name.fixed.o
  "$GRAFT" build --orig $name.orig.o --patched $name.fixed.o --target $name -o $name.graft >build.txt
  grep -q "replaces  report" build.txt || fail "report not replaced: $(cat build.txt)"
  start $name $name.out
  wait_for $name.out '^service: 3$'
  mark $name.out
  "$GRAFT" apply $name.graft --pid "$PID"
  expect $name.out '^service: served [0-9]+ requests \(fixed\)$'
  "$GRAFT" revert $name --pid "$PID"
  mark $name.out
  expect $name.out '^service: [0-9]+$'
  alive "$PID"; not_stopped "$PID"
done
echo PASS

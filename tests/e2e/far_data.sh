# Variables of another library that the running program never used (so it
# has no copy of them), reached by a fix compiled as a default PIE: each
# access is a 32-bit PC-relative operand, out of reach from the patch
# mapping. graft moves every such instruction out of line into a thunk that
# loads the variable's address from a pointer cell the patch owns (filled
# when the patch is applied) and performs the same access through a
# register: a load into its own destination register, stores and
# read-modify-writes (16-bit with an immediate after the displacement)
# through a borrowed r8-r11 saved below the red zone. The library's own
# functions report the variables, so the test sees that the writes landed
# in the library's variables, and that the revert leaves them as they were.
. "$(dirname "$0")/lib.sh"
cd "$W"
gcc -O2 -g -fPIC -shared -o libfar.so "$PROGRAMS/libfar.c"
gcc -O2 -g -o far "$PROGRAMS/far_data.c" -L"$W" -Wl,-rpath,"$W" -lfar
gcc -O2 -g -ffunction-sections -fdata-sections -c "$PROGRAMS/far_data.c" -o far.orig.o
gcc -O2 -g -ffunction-sections -fdata-sections -DFIXED -c "$PROGRAMS/far_data.c" -o far.fixed.o
nm -D far | grep -q " far_counter" && fail "the program has a copy of far_counter: the test would not test anything"
objdump -dr far.fixed.o | grep -q "R_X86_64_PC32	far_small" || fail "the fix does not use PC-relative far_small"

step "graft build: no refusal, one cell per variable"
"$GRAFT" build --orig far.orig.o --patched far.fixed.o --target far -o far.graft >build.txt 2>&1 ||
  fail "build refused: $(cat build.txt)"
start far out
wait_for out '^step 3 '
mark out

step "apply: the fix's loads and stores reach libfar.so's variables"
"$GRAFT" apply far.graft --pid "$PID" || fail "apply failed"
expect out '^step [0-9]+ -> [0-9]+ counter [1-9]'
python3 - out "$MARK" <<'PY' || fail "wrong values after the apply: $(tail -5 out)"
import re, sys
lines = open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]
rows = [tuple(map(int, m.groups())) for l in lines
        if (m := re.match(r"step (\d+) -> (-?\d+) counter (\d+) total (\d+) small (-?\d+)", l))]
rows = [r for r in rows if r[2] > 0]
assert len(rows) >= 3, rows
for i, (n, r, counter, total, small) in enumerate(rows):
    assert total == 2 * n, ("store of far_total", n, total)
    assert r == len("library") * 1000 + 2 * n, ("load of far_name", n, r)
    if i:
        assert counter == rows[i - 1][2] + 3 * (n - rows[i - 1][0]), ("addl to far_counter", rows[i - 1], rows[i])
        assert small == rows[i - 1][4] + (n - rows[i - 1][0]), ("16-bit add to far_small", rows[i - 1], rows[i])
print("after apply:", rows[-1])
PY

step "revert: the program's own code again, the library's values stay as written"
"$GRAFT" revert far.graft --pid "$PID" 2>/dev/null || "$GRAFT" revert far --pid "$PID" || fail "revert failed"
mark out
expect out '^step ([0-9]+) -> \1 counter'
last=$(tail -1 out | sed -E 's/.*counter ([0-9]+).*/\1/')
sleep 0.2
now=$(tail -1 out | sed -E 's/.*counter ([0-9]+).*/\1/')
[ "$last" = "$now" ] || fail "far_counter still changes after the revert: $last -> $now"
alive "$PID"; not_stopped "$PID"
echo PASS

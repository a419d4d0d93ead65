# Patch levels: a cumulative level 2 supersedes level 1 in one stop (level 1's
# functions switch straight to level 2's, its memory goes away), a level that
# drops a function puts that function's original code back, an older level
# cannot return over a newer one, and reverting the newest returns to the
# original program (docs/safety.md).
. "$(dirname "$0")/lib.sh"
src=$PROGRAMS/stacked.c
gcc -O2 -g -o "$W/stacked" "$src" -pthread
for v in orig:"" a:-DFIXED_A ab:"-DFIXED_A -DFIXED_B" b:-DFIXED_B; do
  gcc -O2 -g -ffunction-sections -fdata-sections ${v#*:} -c "$src" -o "$W/stacked.${v%%:*}.o"
done
b() { "$GRAFT" build --orig "$W/stacked.orig.o" --patched "$W/stacked.$1.o" --target "$W/stacked" -o "$W/$2.graft" --id "$2" "${@:3}" >/dev/null; }
b a fix-v1
b ab fix-v2 --supersedes fix-v1
b b fix-v3 --supersedes fix-v2
"$GRAFT" info "$W/fix-v2.graft" --json | grep -q '"fix-v1"' || fail "info does not show what v2 supersedes"
start stacked "$W/out"
value() { mark "$W/out"; expect "$W/out" "^value $1\$"; }
value 4
step "level 1"
"$GRAFT" apply "$W/fix-v1.graft" --pid "$PID" --timeout 30; value 1004
step "level 2 supersedes level 1 in one switch"
"$GRAFT" apply "$W/fix-v2.graft" --pid "$PID" --timeout 30; value 1202
"$GRAFT" list --pid "$PID" --json >"$W/list.json"
grep -q '"id": "fix-v2"' "$W/list.json" || fail "v2 not listed"
grep -q '"id": "fix-v1"' "$W/list.json" && fail "v1 still listed after being superseded"
grep -q "memfd:graft:fix-v1" /proc/"$PID"/maps && fail "v1's memory is still mapped"
step "level 1 cannot go back in over level 2"
if "$GRAFT" apply "$W/fix-v1.graft" --pid "$PID" 2>"$W/err"; then fail "v1 applied over v2"; fi
grep -q "supersedes fix-v1" "$W/err" || fail "unclear refusal: $(cat "$W/err")"
value 1202
step "level 3 drops the outer() fix: outer() runs its original code again"
"$GRAFT" apply "$W/fix-v3.graft" --pid "$PID" --timeout 30; value 202
grep -q "memfd:graft:fix-v2" /proc/"$PID"/maps && fail "v2's memory is still mapped"
step "reverting the newest level returns to the original"
"$GRAFT" revert fix-v3 --pid "$PID" --timeout 30; value 4
"$GRAFT" list --pid "$PID" | grep -q "no live patches" || fail "patches left"
step "a level applied where no earlier one is: an ordinary apply"
"$GRAFT" apply "$W/fix-v2.graft" --pid "$PID" --timeout 30; value 1202
"$GRAFT" revert fix-v2 --pid "$PID" --timeout 30; value 4
alive "$PID"; not_stopped "$PID"
grep -q "memfd:graft" /proc/"$PID"/maps && fail "patch memory left mapped"
echo PASS

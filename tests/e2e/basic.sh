# Apply, list, revert on a PIE program whose threads sit in nanosleep() and in
# a blocking read(); the blocked read must still work after each switch.
. "$(dirname "$0")/lib.sh"
build svc svc.c
step "build the bundle"
"$GRAFT" build --orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc" -o "$W/fix.graft" \
  --cve CVE-2099-1000 --description "compute overflow" | tee "$W/build.txt"
grep -q "replaces  compute" "$W/build.txt" || fail "compute not replaced"
"$GRAFT" info "$W/fix.graft" --json | grep -q '"CVE-2099-1000"' || fail "info lacks the CVE"

mkfifo "$W/in"
start svc "$W/out" fifo "$W/in"
wait_for "$W/out" '^value 42$'
step "check is a dry run"
mark "$W/out"
"$GRAFT" check "$W/fix.graft" --pid "$PID"
expect "$W/out" '^value 42$'
step "apply"
mark "$W/out"
"$GRAFT" apply "$W/fix.graft" --pid "$PID"
expect "$W/out" '^value 63$'
echo 5 >"$W/in"
expect "$W/out" '^fifo 15$'
"$GRAFT" list --pid "$PID" --json | tee "$W/list.json" | grep -q '"state": "active"' || fail "list does not show it active"
grep -q '"CVE-2099-1000"' "$W/list.json" || fail "list lacks the CVE"
grep -q "memfd:graft:fix" /proc/"$PID"/maps || fail "no named patch mapping"
grep "memfd:graft:fix" /proc/"$PID"/maps | grep -q 'rwx' && fail "a patch page is writable and executable"
step "apply twice is refused"
if "$GRAFT" apply "$W/fix.graft" --pid "$PID" 2>"$W/err"; then fail "second apply succeeded"; fi
grep -q "already applied" "$W/err" || fail "unclear error: $(cat "$W/err")"
step "revert"
mark "$W/out"
"$GRAFT" revert fix --pid "$PID"
sleep 0.05
mark "$W/out"
expect "$W/out" '^value 42$'
echo 7 >"$W/in"
expect "$W/out" '^fifo 14$'
grep -q "memfd:graft" /proc/"$PID"/maps && fail "patch memory left mapped"
"$GRAFT" list --pid "$PID" | grep -q "no live patches" || fail "list still shows a patch"
alive "$PID"; not_stopped "$PID"
echo PASS

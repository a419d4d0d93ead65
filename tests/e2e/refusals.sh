# What graft must refuse, each with an error that names the problem:
# a changed initial value, code the objects do not reproduce (run-pre), a
# function that never goes idle, a process that does not run the target, and
# a damaged bundle.
. "$(dirname "$0")/lib.sh"

step "changed initial value of a global"
build bad bad_global.c
if "$GRAFT" build --orig "$W/bad.orig.o" --patched "$W/bad.fixed.o" --target "$W/bad" -o "$W/x.graft" 2>"$W/err"; then
  fail "built a patch that changes a global's initial value"
fi
grep -q "variable 'threshold'" "$W/err" || fail "error does not name threshold: $(cat "$W/err")"

step "run-pre: objects built with other flags than the target"
build svc svc.c
gcc -O0 -g -o "$W/svc-O0" "$PROGRAMS/svc.c" -pthread
if "$GRAFT" build --orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc-O0" -o "$W/x.graft" 2>"$W/err"; then
  fail "built against code the objects do not reproduce"
fi
grep -q "run-pre verification failed" "$W/err" && grep -q "compute" "$W/err" || fail "unclear run-pre error: $(cat "$W/err")"

step "a function that never goes idle"
build forever busy_forever.c
"$GRAFT" build --orig "$W/forever.orig.o" --patched "$W/forever.fixed.o" --target "$W/forever" -o "$W/f.graft" >/dev/null
start forever "$W/out"
sleep 0.2
if "$GRAFT" apply "$W/f.graft" --pid "$PID" --timeout 1 2>"$W/err"; then fail "applied while a thread is inside"; fi
grep -q "serve_forever" "$W/err" && grep -q "thread" "$W/err" || fail "error does not name function and thread: $(cat "$W/err")"
grep -q "memfd:graft" /proc/"$PID"/maps && fail "patch memory left behind after giving up"
alive "$PID"; not_stopped "$PID"

step "a process that does not run the target"
"$GRAFT" build --orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc" -o "$W/fix.graft" >/dev/null
if "$GRAFT" apply "$W/fix.graft" --pid "$PID" 2>"$W/err"; then fail "applied to the wrong program"; fi
grep -q "does not run svc" "$W/err" || fail "unclear error: $(cat "$W/err")"

step "a process that exits while graft waits for it"
build exits exits_soon.c
"$GRAFT" build --orig "$W/exits.orig.o" --patched "$W/exits.fixed.o" --target "$W/exits" -o "$W/e.graft" >/dev/null
start exits "$W/out3"
if "$GRAFT" apply "$W/e.graft" --pid "$PID" --timeout 5 2>"$W/err"; then fail "applied to a process that exited"; fi
grep -q "exited" "$W/err" || fail "unclear error for an exiting process: $(cat "$W/err")"

step "a damaged bundle"
cp "$W/fix.graft" "$W/bad.graft"
printf '\x55' | dd of="$W/bad.graft" bs=1 seek=100 conv=notrunc 2>/dev/null
if "$GRAFT" info "$W/bad.graft" 2>"$W/err"; then fail "read a damaged bundle"; fi
grep -q "checksum mismatch" "$W/err" || fail "unclear error: $(cat "$W/err")"
if "$GRAFT" info "$W/svc" 2>"$W/err"; then fail "read an ELF file as a bundle"; fi
grep -q "not a graft bundle" "$W/err" || fail "unclear error: $(cat "$W/err")"
echo PASS

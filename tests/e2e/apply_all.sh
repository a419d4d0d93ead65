# `graft apply --all` over many processes of one program reads each file
# they map once: the program and its C library are parsed once, the C
# library's code is scanned for syscall gadgets once, and every process is
# still patched on its own (its own stop, its own gadgets checked in its
# memory). A process that dies in the middle does not stop the others.
. "$(dirname "$0")/lib.sh"
N=12
build svc svc.c
"$GRAFT" build --orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc" -o "$W/fix.graft" >/dev/null
step "$N processes of one program"
for i in $(seq "$N"); do start svc "$W/out.$i"; done
step "apply --all: every one patched, each file parsed once"
"$GRAFT" apply "$W/fix.graft" --all -v >"$W/apply.txt" 2>"$W/err.txt" || fail "apply: $(tail -3 "$W/err.txt")"
[ "$(grep -c ": applied fix" "$W/apply.txt")" = "$N" ] || fail "applied: $(cat "$W/apply.txt")"
for i in $(seq "$N"); do MARK=$(wc -l <"$W/out.$i"); expect "$W/out.$i" '^value 63$'; done
line=$(grep "build-id cache:" "$W/err.txt") || fail "no cache line: $(tail -3 "$W/err.txt")"
echo "$line"
parsed=$(sed -E 's/.*: ([0-9]+) files parsed.*/\1/' <<<"$line")
scans=$(sed -E 's/.*gadget scans ([0-9]+),.*/\1/' <<<"$line")
# svc, libc, ld.so (and the vdso has no file): a handful, not one per process.
[ "$parsed" -le 4 ] || fail "$parsed files parsed for $N processes of one program"
[ "$scans" = 1 ] || fail "$scans gadget scans for $N processes of one C library"
step "revert --all"
"$GRAFT" revert fix --all >/dev/null
for i in $(seq "$N"); do MARK=$(wc -l <"$W/out.$i"); expect "$W/out.$i" '^value 42$'; done
step "one process gone between listing and applying: the others are patched"
"$GRAFT" apply "$W/fix.graft" --pid "${PIDS[0]}" --pid 999999 --pid "${PIDS[1]}" >"$W/apply2.txt" 2>"$W/err2.txt" && fail "a missing process went unnoticed"
[ "$(grep -c ": applied fix" "$W/apply2.txt")" = 2 ] || fail "$(cat "$W/apply2.txt" "$W/err2.txt")"
for p in "${PIDS[@]}"; do alive "$p"; not_stopped "$p"; done
echo PASS

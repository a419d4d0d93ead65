# Signed patches: graft keygen / sign / verify, and the policy graft apply,
# check, kernel load and kernel install enforce before anything is written
# (or even parsed): an unsigned bundle is refused unless --allow-unsigned,
# a bundle signed by a key the host does not trust is refused naming the
# key, and a bundle changed after signing is refused naming the mismatch —
# also with --allow-unsigned. The process stays unpatched after each refusal.
. "$(dirname "$0")/lib.sh"
unset GRAFT_ALLOW_UNSIGNED
export GRAFT_KEYS_DIR=$W/trusted
mkdir -p "$GRAFT_KEYS_DIR"
build svc svc.c
"$GRAFT" build --orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc" -o "$W/fix.graft" >/dev/null
start svc "$W/out" spin 1
wait_for "$W/out" '^value 42$'
unpatched() {
  "$GRAFT" list --pid "$PID" 2>&1 | grep -q "no live patches" || fail "a patch got applied: $("$GRAFT" list --pid "$PID")"
  alive "$PID"; not_stopped "$PID"
}
refused() {  # refused EXPECTED-TEXT graft-args...: exit 1, the text on stderr
  local want=$1; shift
  set +e; "$GRAFT" "$@" 2>"$W/err"; local rc=$?; set -e
  [ "$rc" = 1 ] || fail "graft $* exited $rc, not 1: $(cat "$W/err")"
  grep -qF "$want" "$W/err" || fail "graft $*: no \"$want\" in: $(cat "$W/err")"
}

step "unsigned: refused (apply and check), nothing changed"
refused "fix.graft is not signed (no $W/fix.graft.sig)" apply "$W/fix.graft" --pid "$PID"
refused "is not signed" check "$W/fix.graft" --pid "$PID"
unpatched

step "keygen and sign"
"$GRAFT" keygen acme --dir "$W/signer" | grep -q "created key acme (id [0-9a-f]\{16\})" || fail "keygen output"
[ "$(stat -c %a "$W/signer/acme.key")" = 600 ] || fail "secret key is not 0600"
if "$GRAFT" keygen acme --dir "$W/signer" 2>/dev/null; then fail "keygen overwrote a key"; fi
"$GRAFT" sign "$W/fix.graft" --key "$W/signer/acme.key" | grep -qx "$W/fix.graft.sig" || fail "sign output"

step "signed by a key the host does not trust: refused, naming it"
refused "is signed by key 'acme'" apply "$W/fix.graft" --pid "$PID"
grep -q "which this host does not trust: $GRAFT_KEYS_DIR holds no keys" "$W/err" || fail "store not named: $(cat "$W/err")"
refused "does not trust" verify "$W/fix.graft"
unpatched

step "trusted: verify, apply, revert"
cp "$W/signer/acme.pub" "$GRAFT_KEYS_DIR/"
"$GRAFT" verify "$W/fix.graft" --json | python3 -c '
import json, sys; v = json.load(sys.stdin)[0]; assert v["ok"] and v["key"] == "acme", v'
mark "$W/out"
"$GRAFT" apply "$W/fix.graft" --pid "$PID"
expect "$W/out" '^value 63$'
"$GRAFT" revert fix --pid "$PID"
unpatched

step "changed after signing: refused, even with --allow-unsigned"
cp "$W/fix.graft" "$W/fix.orig.graft"
printf 'x' >>"$W/fix.graft"
refused "does not match its signature by 'acme'" apply "$W/fix.graft" --pid "$PID" --allow-unsigned
cp "$W/fix.orig.graft" "$W/fix.graft"
printf '{"format": "graft-signature-v1", "key": "acme", "key_id": "%s", "signature": "AAAA"}' \
  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key_id"])' "$W/fix.graft.sig")" >"$W/bad.sig"
cp "$W/fix.graft.sig" "$W/good.sig" && cp "$W/bad.sig" "$W/fix.graft.sig"
refused "the signature is damaged" apply "$W/fix.graft" --pid "$PID"
cp "$W/good.sig" "$W/fix.graft.sig"
unpatched

step "--allow-unsigned (and GRAFT_ALLOW_UNSIGNED=1) accept an unsigned bundle"
rm "$W/fix.graft.sig"
"$GRAFT" apply "$W/fix.graft" --pid "$PID" --allow-unsigned
"$GRAFT" revert fix --pid "$PID"
GRAFT_ALLOW_UNSIGNED=1 "$GRAFT" check "$W/fix.graft" --pid "$PID" >/dev/null
unpatched

step "kernel modules: the same gate before the kernel or the install directory sees them"
cp "$W/fix.orig.graft" "$W/lp.ko"  # any file: the signature is checked before it is read as a module
refused "lp.ko is not signed" kernel load "$W/lp.ko"
refused "lp.ko is not signed" kernel install "$W/lp.ko" --no-service
"$GRAFT" sign "$W/lp.ko" --key "$W/signer/acme.key" >/dev/null
printf 'x' >>"$W/lp.ko"
refused "lp.ko does not match its signature" kernel load "$W/lp.ko"
echo PASS

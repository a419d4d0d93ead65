# The host's patches in one place: bundles installed (verified, kept with
# their signatures), `graft apply-installed` bringing every process that maps
# a target up to the installed bundles (and one started later, by --pid, as
# the host service does), `graft status --json` showing per process applied
# or missing, patch levels (an installed v2 supersedes v1: applied over it in
# one switch), a bundle changed on disk after install (reported, never
# applied), and a patch applied by hand that is not installed.
. "$(dirname "$0")/lib.sh"
unset GRAFT_ALLOW_UNSIGNED
export GRAFT_STATE_DIR=$W/state GRAFT_KEYS_DIR=$W/trusted
build svc svc.c
B=(--orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc")
"$GRAFT" build "${B[@]}" -o "$W/fix.graft" --id fix --cve CVE-2099-3000 >/dev/null
"$GRAFT" build "${B[@]}" -o "$W/fix-v2.graft" --id fix-v2 --supersedes fix --cve CVE-2099-3000 --cve CVE-2099-3001 >/dev/null
"$GRAFT" keygen ops --dir "$W/keys" >/dev/null
"$GRAFT" sign "$W/fix.graft" "$W/fix-v2.graft" --key "$W/keys/ops.key" >/dev/null
mkdir -p "$GRAFT_KEYS_DIR" && cp "$W/keys/ops.pub" "$GRAFT_KEYS_DIR/"
start svc "$W/out1" spin 1; P1=$PID
start svc "$W/out2" spin 1; P2=$PID
st() { "$GRAFT" status --json >"$W/st.json" || fail "graft status failed"; }
state_of() {  # state_of PID BUNDLE
  python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(next((p["state"] for p in s["processes"] if p["pid"] == int(sys.argv[2]) and p["bundle"] == sys.argv[3]), "absent"))' \
    "$W/st.json" "$1" "$2"
}

step "install: verified and kept; nothing applied yet"
"$GRAFT" install "$W/fix.graft" | grep -q "installed fix for svc .*signed by ops" || fail "install output"
[ -f "$GRAFT_STATE_DIR/bundles/fix.graft" ] && [ -f "$GRAFT_STATE_DIR/bundles/fix.graft.sig" ] || fail "not kept with its .sig"
st
[ "$(state_of $P1 fix)" = missing ] && [ "$(state_of $P2 fix)" = missing ] || fail "status: $(cat "$W/st.json")"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["live_cves"] == [], s' "$W/st.json"

step "apply-installed: both processes"
"$GRAFT" apply-installed | tee "$W/ai.txt"
[ "$(grep -c "applied fix" "$W/ai.txt")" = 2 ] || fail "not applied to both"
st
[ "$(state_of $P1 fix)" = applied ] && [ "$(state_of $P2 fix)" = applied ] || fail "status: $(cat "$W/st.json")"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["live_cves"] == ["CVE-2099-3000"], s' "$W/st.json"
"$GRAFT" apply-installed | grep -q "every process runs the installed bundles it maps" || fail "second run not idle"

step "a process started later: missing until apply-installed --pid"
start svc "$W/out3" spin 1; P3=$PID
st
[ "$(state_of $P3 fix)" = missing ] || fail "new process: $(cat "$W/st.json")"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["live_cves"] == [], s' "$W/st.json"
mark "$W/out3"
"$GRAFT" apply-installed --pid "$P3" | grep -q "process $P3 (svc): applied fix" || fail "apply-installed --pid"
expect "$W/out3" '^value 63$'

step "patch level: installed v2 supersedes v1 and is applied over it"
"$GRAFT" install "$W/fix-v2.graft" >/dev/null
st
[ "$(state_of $P1 fix)" = absent ] && [ "$(state_of $P1 fix-v2)" = missing ] || fail "v2 effective: $(cat "$W/st.json")"
"$GRAFT" apply-installed >"$W/ai2.txt" || fail "apply v2: $(cat "$W/ai2.txt")"
[ "$(grep -c "applied fix-v2" "$W/ai2.txt")" = 3 ] || fail "v2 not applied to the three: $(cat "$W/ai2.txt")"
"$GRAFT" list --pid "$P1" | grep -q "fix-v2" || fail "v2 not listed"
"$GRAFT" list --pid "$P1" | grep -qw "fix " && fail "v1 still listed"
st
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["live_cves"] == ["CVE-2099-3000", "CVE-2099-3001"], s' "$W/st.json"

step "a bundle changed on disk after install: reported, never applied"
printf 'x' >>"$GRAFT_STATE_DIR/bundles/fix-v2.graft"
st
python3 - "$W/st.json" <<'PY' || fail "problem not reported: $(cat "$W/st.json")"
import json, sys
s = json.load(open(sys.argv[1]))
b = {b["id"]: b for b in s["bundles"]}
assert "does not match its signature" in b["fix-v2"]["problem"], b
PY
"$GRAFT" status | grep -q "PROBLEM: .*fix-v2.graft does not match its signature" || fail "table lacks the problem"

step "applied by hand, not installed"
"$GRAFT" build "${B[@]}" -o "$W/hand.graft" --id hand >/dev/null
"$GRAFT" uninstall fix-v2 >/dev/null && "$GRAFT" uninstall fix >/dev/null
"$GRAFT" revert fix-v2 --pid "$P2" >/dev/null
"$GRAFT" apply "$W/hand.graft" --pid "$P2" --allow-unsigned >/dev/null
st
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["bundles"] == [] and s["processes"] == [], s
ids = sorted((p["pid"], p["id"]) for p in s["applied_not_installed"])
assert (int(sys.argv[2]), "hand") in ids, ids' "$W/st.json" "$P2"
for p in $P1 $P2 $P3; do alive "$p"; not_stopped "$p"; done
echo PASS

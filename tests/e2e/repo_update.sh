# Delivery end to end: a publisher builds a signed repository (graft repo),
# a real web server (busybox httpd on loopback) serves it, and a host that
# follows its channels (graft channel add) brings running processes up to it
# with graft update: channel promotion, the host's delay, a tampered bundle
# and a tampered index refused before anything is installed, a newer patch
# level replacing the older, a replayed older index refused, an entry for a
# program nobody runs left alone, the advisories read back by graft
# advisories import, an index that is no longer refreshed refused as expired,
# and graft supported answering from the channel's policy.
. "$(dirname "$0")/lib.sh"
unset GRAFT_ALLOW_UNSIGNED
export GRAFT_STATE_DIR=$W/state GRAFT_KEYS_DIR=$W/trusted GRAFT_AGENT_DIR=$W/agent
build svc svc.c
build other svc.c -O1
B=(--orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc")
"$GRAFT" build "${B[@]}" -o "$W/fix.graft" --id fix --cve CVE-2099-4000 >/dev/null
"$GRAFT" build "${B[@]}" -o "$W/fix-v2.graft" --id fix-v2 --supersedes fix --cve CVE-2099-4000 --cve CVE-2099-4001 >/dev/null
"$GRAFT" build --orig "$W/other.orig.o" --patched "$W/other.fixed.o" --target "$W/other" -o "$W/other.graft" \
  --id other-fix --cve CVE-2099-4002 >/dev/null
"$GRAFT" keygen publisher --dir "$W/keys" >/dev/null
mkdir -p "$GRAFT_KEYS_DIR" && cp "$W/keys/publisher.pub" "$GRAFT_KEYS_DIR/"
KEY=$W/keys/publisher.key
REPO=$W/www
PORT=$((20000 + $$ % 20000))
URL=http://127.0.0.1:$PORT
update() { "$GRAFT" update --json "$@" >"$W/up.json"; }
action_of() {  # action_of SUBSCRIPTION ID
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(next((i["action"] for i in r["items"] if i["subscription"] == sys.argv[2] and i["id"] == sys.argv[3]), "absent"))' \
    "$W/up.json" "$1" "$2"
}

step "publish: signed index, signed files, updateinfo.xml and OSV"
"$GRAFT" repo add "$REPO" "$W/fix.graft" "$W/other.graft" --channel testing --severity important --key "$KEY" \
  | grep -q "published bundle fix for svc" || fail "repo add"
for f in index.json index.json.sig bundles/fix.graft bundles/fix.graft.sig updateinfo.xml osv/GRAFT-fix.json; do
  [ -f "$REPO/$f" ] || fail "repository lacks $f"
done
"$GRAFT" verify "$REPO/bundles/fix.graft" >/dev/null || fail "the published bundle does not verify"
"$GRAFT" advisories --db "$W/adv.db" import "$REPO/updateinfo.xml" >/dev/null
"$GRAFT" advisories --db "$W/adv.db" show GRAFT-fix | grep -q "CVE-2099-4000" || fail "updateinfo not read back"
"$GRAFT" advisories --db "$W/adv2.db" import "$REPO/osv/GRAFT-fix.json" >/dev/null || fail "OSV not read back"
busybox httpd -f -p 127.0.0.1:$PORT -h "$REPO" 2>"$W/httpd.log" &
PIDS+=($!)
for i in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
  [ "$i" != 50 ] || fail "busybox httpd did not start: $(cat "$W/httpd.log")"
  sleep 0.1
done

start svc "$W/out1" spin 1; P1=$PID
start svc "$W/out2" spin 1; P2=$PID

step "follow stable (nothing there yet) and testing with a 24 h delay"
"$GRAFT" channel add vendor "$URL" >/dev/null
"$GRAFT" channel add beta "$URL" --channel testing --delay 24 >/dev/null
"$GRAFT" channel list | grep -q "beta  $URL testing  delay 24 h" || fail "channel list: $("$GRAFT" channel list)"
update || fail "update: $(cat "$W/up.json")"
[ "$(action_of beta fix)" = held ] || fail "testing entry not held: $(cat "$W/up.json")"
grep -q "holds it until" "$W/up.json" || fail "no until in the report"
[ "$(action_of beta other-fix)" = not-applicable ] || fail "other-fix: $(cat "$W/up.json")"
[ ! -e "$GRAFT_STATE_DIR/bundles/fix.graft" ] || fail "installed despite the delay"
mark "$W/out1"; expect "$W/out1" '^value 42$'
"$GRAFT" update --check --json --now "$(date -u -d '+25 hours' +%Y-%m-%dT%H:%M:%SZ)" >"$W/up.json" || fail "check"
[ "$(action_of beta fix)" = would-install ] || fail "after the delay: $(cat "$W/up.json")"
[ ! -e "$GRAFT_STATE_DIR/bundles/fix.graft" ] || fail "--check installed"
"$GRAFT" channel remove beta >/dev/null

step "promote to stable: installed and applied to both processes"
"$GRAFT" repo promote "$REPO" fix --from testing --to stable --key "$KEY" | grep -q "promoted bundle fix" || fail promote
update || fail "update: $(cat "$W/up.json")"
[ "$(action_of vendor fix)" = installed ] || fail "not installed: $(cat "$W/up.json")"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert len(r["processes_patched"]) == 2, r' "$W/up.json"
mark "$W/out1"; expect "$W/out1" '^value 63$'
mark "$W/out2"; expect "$W/out2" '^value 63$'
update && [ "$(action_of vendor fix)" = up-to-date ] || fail "second update: $(cat "$W/up.json")"
"$GRAFT" status --json | python3 -c 'import json,sys; s=json.load(sys.stdin); assert s["live_cves"]==["CVE-2099-4000"], s'

step "a tampered bundle is refused before anything is installed"
"$GRAFT" repo add "$REPO" "$W/fix-v2.graft" --channel stable --key "$KEY" >/dev/null
cp "$REPO/bundles/fix-v2.graft" "$W/good-v2"
printf 'x' >>"$REPO/bundles/fix-v2.graft"
if update; then fail "tampered bundle accepted"; fi
[ "$(action_of vendor fix-v2)" = refused ] && grep -q "differs from the" "$W/up.json" || fail "$(cat "$W/up.json")"
[ ! -e "$GRAFT_STATE_DIR/bundles/fix-v2.graft" ] || fail "tampered bundle installed"
cp "$W/good-v2" "$REPO/bundles/fix-v2.graft"

step "a tampered index is refused"
cp "$REPO/index.json" "$W/good-index"
sed -i 's/"severity": ""/"severity": "low"/' "$REPO/index.json"
if update; then fail "tampered index accepted"; fi
grep -q "does not match its signature" "$W/up.json" || fail "index: $(cat "$W/up.json")"
cp "$W/good-index" "$REPO/index.json"

step "the newer patch level replaces the older in every process"
update || fail "update: $(cat "$W/up.json")"
[ "$(action_of vendor fix-v2)" = installed ] && [ "$(action_of vendor fix)" = superseded ] || fail "$(cat "$W/up.json")"
for p in $P1 $P2; do
  "$GRAFT" list --pid $p | grep -q "fix-v2" || fail "fix-v2 not running in $p"
  alive $p
done

step "a replayed older index is refused"
cp "$REPO/index.json" "$W/new-index" && cp "$REPO/index.json.sig" "$W/new-index.sig"
"$GRAFT" repo withdraw "$REPO" other-fix --channel testing --key "$KEY" >/dev/null
update || fail "update after withdraw: $(cat "$W/up.json")"
cp "$W/new-index" "$REPO/index.json" && cp "$W/new-index.sig" "$REPO/index.json.sig"
if update; then fail "older index accepted"; fi
grep -q "older than the" "$W/up.json" || fail "rollback: $(cat "$W/up.json")"

step "graft status shows the channels and the last update"
"$GRAFT" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
c = {c["name"]: c for c in s["channels"]}
assert list(c) == ["vendor"] and "older than the" in c["vendor"]["error"], s["channels"]
assert s["last_update"]["ok"] is False and s["last_update"]["check_only"] is False, s["last_update"]' ||
  fail "status: $("$GRAFT" status --json)"
cp "$W/new-index" "$W/x" # keep the newest index served again
"$GRAFT" repo withdraw "$REPO" fix --channel testing --key "$KEY" >/dev/null

step "graftd: its periodic update brings a new level to every process"
"$GRAFT" build "${B[@]}" -o "$W/fix-v3.graft" --id fix-v3 --supersedes fix-v2 --supersedes fix --cve CVE-2099-4000 \
  --cve CVE-2099-4001 --cve CVE-2099-4003 >/dev/null
mkdir -p "$GRAFT_AGENT_DIR"
"$GRAFT" daemon --agent-dir "$GRAFT_AGENT_DIR" --update-interval 1 >"$W/graftd.log" 2>&1 &
D=$!; PIDS+=($D)
wait_for "$W/graftd.log" "update: channel vendor: index" 20
"$GRAFT" repo add "$REPO" "$W/fix-v3.graft" --channel stable --key "$KEY" >/dev/null
wait_for "$W/graftd.log" "update: installed bundle fix-v3" 20
wait_for "$W/graftd.log" "process $P2 .*applied fix-v3" 20
for p in $P1 $P2; do "$GRAFT" list --pid $p | grep -q "fix-v3" || fail "fix-v3 not running in $p: $(cat "$W/graftd.log")"; done
kill $D; wait $D 2>/dev/null || true

step "graft update killed at any moment: every item installed or not, the next run completes"
for delay in 0.01 0.03 0.06 0.1 0.15 0.25; do
  rm -rf "$GRAFT_STATE_DIR/bundles"
  "$GRAFT" update --json >/dev/null 2>&1 &
  U=$!
  sleep $delay
  kill -9 $U 2>/dev/null || true
  wait $U 2>/dev/null || true
  "$GRAFT" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
bad = [b for b in s["bundles"] if b.get("problem")]
assert not bad, bad' || fail "after a kill at $delay s: $("$GRAFT" status --json)"
  for p in $P1 $P2; do alive $p; not_stopped $p; done
done
update || fail "update after the kills: $(cat "$W/up.json")"
[ "$(action_of vendor fix-v3)" = installed ] || [ "$(action_of vendor fix-v3)" = up-to-date ] || fail "$(cat "$W/up.json")"

step "an index that is no longer refreshed expires; graft repo refresh renews it"
LATER=$(date -u -d '+31 days' +%Y-%m-%dT%H:%M:%SZ)
if "$GRAFT" update --check --json --now "$LATER" >"$W/up.json"; then fail "expired index accepted"; fi
grep -q "expired at .*graft repo refresh" "$W/up.json" || fail "expiry: $(cat "$W/up.json")"
"$GRAFT" repo refresh "$REPO" --valid-days 60 --key "$KEY" | grep -q "valid until" || fail "repo refresh"
"$GRAFT" update --check --json --now "$LATER" >"$W/up.json" || fail "refreshed index: $(cat "$W/up.json")"

step "graft supported answers from the channel's policy"
"$GRAFT" repo policy "$REPO" --kernel-release "$(uname -r)" --until 2099-12-31 --key "$KEY" >/dev/null
update || true
"$GRAFT" supported --json >"$W/sup.json" || fail "not supported: $(cat "$W/sup.json")"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["supported"] and s["until"]=="2099-12-31" and "vendor" in s["source"], s' "$W/sup.json"
"$GRAFT" repo policy "$REPO" --kernel-release "$(uname -r)" --until 2020-01-01 --key "$KEY" >/dev/null
update || true
if "$GRAFT" supported >"$W/sup.txt"; then fail "supported after the window"; fi
grep -q "stopped receiving live patches from channel vendor" "$W/sup.txt" || fail "$(cat "$W/sup.txt")"
for p in $P1 $P2; do alive $p; not_stopped $p; done
echo "PASS"

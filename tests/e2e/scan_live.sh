# graft scan counts live patches: a CVE whose package is still old on disk is
# "missing" until a live patch that declares it is applied to the running
# process, "fixed-by-live-patch" while it is active, and "missing" again after
# revert. The same holds for a fleet scan fed another host's `graft list --json`.
. "$(dirname "$0")/lib.sh"
build svc svc.c
"$GRAFT" build --orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc" -o "$W/fix.graft" \
  --id svc-cve-2099-1000 --cve CVE-2099-1000 >/dev/null
# The host's inventory and a Debian-style OSV advisory for the program's package.
printf 'svc 1.0-1 amd64\nlibother 2.0-1 amd64\n' >"$W/packages"
cat >"$W/dsa.json" <<'JSON'
[{"id": "DSA-9999-1", "published": "2099-01-01T00:00:00Z", "modified": "2099-01-01T00:00:00Z",
  "summary": "svc - security update", "aliases": ["CVE-2099-1000"],
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "svc"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0-1+deb12u1"}]}]}]},
 {"id": "DSA-9999-2", "published": "2099-01-02T00:00:00Z", "modified": "2099-01-02T00:00:00Z",
  "summary": "libother - security update", "aliases": ["CVE-2099-2000"],
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "libother"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.9-1"}]}]}]}]
JSON
"$GRAFT" advisories --db "$W/a.db" import -q "$W/dsa.json"
scan() { "$GRAFT" scan --db "$W/a.db" --packages "$W/packages" --ecosystem deb --release Debian:12 "$@"; }
status_of() { python3 -c 'import json,sys; print({c["cve"]: c["status"] for c in json.load(sys.stdin)["cves"]}.get(sys.argv[1], "absent"))' "$1"; }

step "before: the CVE is missing"
mkfifo "$W/in"
start svc "$W/out" fifo "$W/in"
[ "$(scan --json | status_of CVE-2099-1000)" = missing ] || fail "not missing before the patch: $(scan --json)"
[ "$(scan --all --json | status_of CVE-2099-2000)" = fixed ] || fail "libother 2.0-1 >= 1.9-1 should be fixed"
if scan --exit-code >/dev/null 2>&1; then fail "--exit-code did not report the missing CVE"; fi

step "apply: fixed-by-live-patch"
"$GRAFT" apply "$W/fix.graft" --pid "$PID" >/dev/null
scan --json >"$W/scan.json"
[ "$(status_of CVE-2099-1000 <"$W/scan.json")" = fixed-by-live-patch ] || fail "not counted: $(cat "$W/scan.json")"
grep -q "svc-cve-2099-1000 (pid $PID svc)" "$W/scan.json" || fail "the scan does not say which patch: $(cat "$W/scan.json")"
python3 - "$W/scan.json" <<'PY' || fail "scan --json fields: $(cat "$W/scan.json")"
import json, sys
d = json.load(open(sys.argv[1]))
c = {x["cve"]: x for x in d["cves"]}["CVE-2099-1000"]
assert c["cvss"] == {"score": 9.8, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, c
assert c["severity"] == "critical" and c["advisories"] == ["DSA-9999-1"], c
a = {x["id"]: x for x in d["advisories"]}["DSA-9999-1"]
assert a["status"] == "missing" and a["packages"][0]["name"] == "svc" and a["packages"][0]["missing"] is True, a
assert d["summary"]["fixed-by-live-patch"] == 1 and d["packages"] == 2, d["summary"]
PY
scan | grep -E "^CVE-2099-1000 +fixed-by-live-patch +critical +9.8" || fail "table row: $(scan)"
[ "$(scan --no-live-patches --json | status_of CVE-2099-1000)" = missing ] || fail "--no-live-patches"

step "fleet: another host's graft list --json"
"$GRAFT" list --json >"$W/live.json"
[ "$(scan --live-patches "$W/live.json" --json | status_of CVE-2099-1000)" = fixed-by-live-patch ] || fail "fleet scan"

step "revert: missing again"
"$GRAFT" revert svc-cve-2099-1000 --pid "$PID" >/dev/null
[ "$(scan --json | status_of CVE-2099-1000)" = missing ] || fail "still counted after revert"
[ "$(scan --live-patches "$W/live.json" --json | status_of CVE-2099-1000)" = fixed-by-live-patch ] || fail "saved list"
alive "$PID"
echo PASS

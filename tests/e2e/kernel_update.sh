# graft update for the kernel, on Debian's kernel in QEMU: the guest follows
# a channel of a repository that a real web server (busybox httpd, on the
# guest's loopback) serves. The first update installs and loads live patch
# A; a tampered module of the next publication is refused and A stays; the
# cumulative patch B then replaces A in one transition (installed and
# loaded by graft update, A's module removed and taken off the boot list);
# after B is unloaded by hand, graftd's update at start loads it again, as
# at boot. Fixture: tests/kernel/author_fixture (a module with a live note;
# A counts its reads, B is A's cumulative successor and prints "v2").
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../kernel/qemu.sh"
kernel_pick

step "patches A and cumulative B for $KVER"
INC=$("$GRAFT" kernel header --dir "$W/include") || fail "graft kernel header"
notes_build "$W/orig"
notes_build "$W/a" notes-read-counter.patch
notes_build "$W/b" notes-read-counter-v2.patch
kbuild() {
  "$GRAFT" kernel build --object graft_fixture_notes --target-module "$W/orig/graft_fixture_notes.ko" \
    --orig "$W/orig/graft_fixture_notes.o" -q "$@" >/dev/null || fail "kernel build $*"
}
kbuild --patched "$W/a/graft_fixture_notes.o" -o "$W/lp_notes_a.ko" --cve CVE-2099-5000
kbuild --patched "$W/b/graft_fixture_notes.o" --replace -o "$W/lp_notes_b.ko" --cve CVE-2099-5000 --cve CVE-2099-5001

step "the publisher's repository, in three states"
"$GRAFT" keygen publisher --dir "$W/keys" >/dev/null
KEY=$W/keys/publisher.key
R=$W/root
mkdir -p "$R/modules" "$R/etc/graft/keys"
cp "$W/keys/publisher.pub" "$R/etc/graft/keys/"
cp "$W/orig/graft_fixture_notes.ko" "$R/modules/"
"$GRAFT" repo add "$R/www1" "$W/lp_notes_a.ko" --channel stable --key "$KEY" | grep -q "kernel lp_notes_a for $KVER" ||
  fail "repo add A"
cp -a "$R/www1" "$R/www2"
"$GRAFT" repo add "$R/www2" "$W/lp_notes_b.ko" --channel stable --key "$KEY" | grep -q "(cumulative)" || fail "repo add B"
cp -a "$R/www2" "$R/www_bad"
printf 'x' >>"$R/www_bad/kernel/lp_notes_b.ko"
"$GRAFT" repo list "$R/www2" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert [e["id"] for e in s["channels"]["stable"]] == ["lp_notes_a", "lp_notes_b"], s
assert s["channels"]["stable"][1]["cumulative"], s' || fail "repo list"

step "guest"
guest_init "$R" <<'SH'
unset GRAFT_ALLOW_UNSIGNED
ifconfig lo 127.0.0.1 up
mkdir -p /www /run/graft
serve() { rm -rf /www/*; cp -a "$1"/. /www/; }
serve /www1
httpd -p 127.0.0.1:8080 -h /www
run insmod insmod /modules/graft_fixture_notes.ko
run note0 cat /proc/graft_fixture_note
run follow graft channel add vendor http://127.0.0.1:8080
run update_a graft update --json
run note_a cat /proc/graft_fixture_note
serve /www_bad
run update_bad graft update --json
run note_bad cat /proc/graft_fixture_note
serve /www2
run update_b graft update --json
run note_b cat /proc/graft_fixture_note
run status_b graft kernel status --json
run modules_b cat /proc/modules
run update_idle graft update --json
run unload_b graft kernel unload lp_notes_b
graft daemon --agent-dir /run/graft > /tmp/graftd.log 2>&1 &
D=$!
for i in $(seq 60); do
  grep -q "update: loaded kernel live patch" /tmp/graftd.log && break; sleep 0.5
done
kill $D; wait $D
run graftd cat /tmp/graftd.log
run note_boot cat /proc/graft_fixture_note
run host_status graft status --json
SH
initramfs_make "$R" "$W/initrd.gz"
qemu_boot "$W/initrd.gz" "$W/console" 300

step "check"
guest_check "$W/console.txt" <<'PY'
orig = "note 1: hello"
assert ok("note0").strip() == orig, ok("note0")
ok("follow")
def item(report, id):
    if isinstance(report, str):
        report = js(report)
    return next(i for i in report["items"] if i["id"] == id)
a = js("update_a")
assert item("update_a", "lp_notes_a")["action"] == "installed", a
assert a["kernel_loaded"] == ["lp_notes_a"] and a["ok"], a
assert ok("note_a").strip() == "note 1: hello (read 101 times)", ok("note_a")
# The tampered module: refused before install; A keeps running.
bad = json.loads(refused("update_bad"))  # exit status 1: something was refused
b_bad = item(bad, "lp_notes_b")
assert b_bad["action"] == "refused" and "differs from the" in b_bad["detail"], bad
# A stays what this host runs: B, which would replace it, was refused.
assert item(bad, "lp_notes_a")["action"] == "up-to-date", bad
assert bad["kernel_loaded"] == [] and not bad["ok"], bad
assert ok("note_bad").strip() == "note 1: hello (read 102 times)", ok("note_bad")
# The cumulative patch replaces A in one transition.
b = js("update_b")
assert item("update_b", "lp_notes_b")["action"] == "installed", b
assert "replaces lp_notes_a" in item("update_b", "lp_notes_b")["detail"], b
assert item("update_b", "lp_notes_a")["action"] == "superseded", b
assert b["kernel_loaded"] == ["lp_notes_b"] and b["ok"], b
assert ok("note_b").strip() == "note 1: hello (read 103 times, v2)", ok("note_b")
st = js("status_b")["patches"]
assert [p["id"] for p in st] == ["lp_notes_b"] and st[0]["replaced"] == ["lp_notes_a"], st
assert "lp_notes_a" not in ok("modules_b"), ok("modules_b")
idle = js("update_idle")
assert item("update_idle", "lp_notes_b")["action"] == "up-to-date", idle
assert item("update_idle", "lp_notes_a")["action"] == "superseded" and idle["kernel_loaded"] == [], idle
ok("unload_b")
# graftd's update at start (as at boot) loads the installed cumulative patch.
assert "update: loaded kernel live patch lp_notes_b" in ok("graftd"), ok("graftd")
assert "lp_notes_a" not in ok("graftd"), ok("graftd")
assert ok("note_boot").strip().endswith("v2)"), ok("note_boot")
h = js("host_status")
assert [p["name"] for p in h["kernel"]["patches"]] == ["lp_notes_b"], h["kernel"]
PY
echo PASS

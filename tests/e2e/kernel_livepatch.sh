# Kernel live patches through the upstream livepatch API, on Debian 12's own
# kernel booted in QEMU: graft kernel load/status/unload on real modules
# built against Debian's headers; refusals before the kernel sees a module
# (not a live patch, another kernel release, already loaded, another patch in
# transition); a transition that cannot finish in time is reversed and the
# module removed; a graft killed mid-transition leaves a state that status
# reports and unload cleans; graft scan on the guest counts the kernel patch
# (fixed-by-live-patch, --effective-kernel), and a fleet scan on the host
# counts it from the guest's `graft kernel status --json`. Patches installed
# for boot are loaded by load-installed only into their own release.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../kernel/qemu.sh"
kernel_pick
export KVER W
step "fixture modules for $KVER"
mkdir -p "$W/mod" "$W/root/modules"
fixtures_build "$W/mod"
cp "$W/mod"/*.ko "$W/root/modules/"
# The same live patch with its vermagic naming another release (same length).
python3 - "$W/mod/graft_fixture_lp.ko" "$W/root/modules/wrongver.ko" "$KVER" <<'PY'
import sys
data, rel = open(sys.argv[1], "rb").read(), sys.argv[3].encode()
other = (b"9" if rel[:1] != b"9" else b"8") + rel[1:]
assert data.count(b"vermagic=" + rel) == 1
open(sys.argv[2], "wb").write(data.replace(b"vermagic=" + rel, b"vermagic=" + other))
PY

step "advisories and the guest's inventory"
read -r VER SRC SRCVER < <(dpkg-query -W -f '${Version} ${source:Package} ${source:Version}\n' "linux-image-$KVER")
echo "linux-image-$KVER $VER amd64 $SRC $SRCVER" >"$W/root/packages"
FIXED="$SRCVER.1"
dpkg --compare-versions "$FIXED" gt "$SRCVER" || fail "$FIXED is not newer than $SRCVER"
cat >"$W/dsa.json" <<JSON
[{"id": "DSA-9999-9", "published": "2099-01-01T00:00:00Z", "modified": "2099-01-01T00:00:00Z",
  "summary": "linux - security update", "aliases": ["CVE-2099-4242"],
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}],
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "$SRC"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "$FIXED"}]}]}]}]
JSON
"$GRAFT" advisories --db "$W/root/adv.db" import -q "$W/dsa.json"

step "guest"
guest_init "$W/root" <<'SH'
M=/modules
scan() { graft scan --db /adv.db --packages /packages --ecosystem deb --release Debian:12 --kernel-release "$(uname -r)" "$@"; }
run uname uname -r
run status0 graft kernel status --json
run info_plain graft kernel info $M/graft_fixture_plain.ko
run load_plain graft kernel load $M/graft_fixture_plain.ko
run load_wrongver graft kernel load $M/wrongver.ko
run scan0 scan --json
run cmdline0 cat /proc/cmdline
run load graft kernel load $M/graft_fixture_lp.ko
run cmdline1 cat /proc/cmdline
run status1 graft kernel status --json
run status1_text graft kernel status
run scan1 scan --json
run effective1 scan --effective-kernel --json
run load_again graft kernel load $M/graft_fixture_lp.ko
rm -rf /var/lib/graft/kernel
run status_norecord graft kernel status --json
run unload graft kernel unload graft_fixture_lp
run cmdline2 cat /proc/cmdline
run status2 graft kernel status --json
run scan2 scan --json
insmod $M/graft_fixture_target.ko
cat /proc/graft_fixture_block & SLEEPER=$!
sleep 1
run load_block graft kernel load $M/graft_fixture_block_lp.ko --timeout 3
run status3 graft kernel status --json
run modules3 cat /proc/modules
graft kernel load $M/graft_fixture_block_lp.ko --timeout 60 >/tmp/killed.log 2>&1 & G=$!
sleep 2
kill -9 $G
run status4 graft kernel status --json
run load_during graft kernel load $M/graft_fixture_lp.ko
run unload4 graft kernel unload graft_fixture_block_lp --timeout 10
run status5 graft kernel status --json
run modules5 cat /proc/modules
kill $SLEEPER
run install_plain graft kernel install $M/graft_fixture_plain.ko
run install graft kernel install $M/graft_fixture_lp.ko
run install_other graft kernel install $M/wrongver.ko
run status_inst graft kernel status --json
run load_installed graft kernel load-installed --json
run cmdline_inst cat /proc/cmdline
run load_installed2 graft kernel load-installed --json
run uninstall graft kernel uninstall graft_fixture_lp
run status_uninst graft kernel status --json
run unload_inst graft kernel unload graft_fixture_lp
SH
initramfs_make "$W/root" "$W/initrd.gz"
qemu_boot "$W/initrd.gz" "$W/console" 300

step "check"
guest_check "$W/console.txt" <<'PY'
import os
kver, w = os.environ["KVER"], os.environ["W"]
def status(scan, cve): return {c["cve"]: c["status"] for c in scan["cves"]}.get(cve, "absent")

assert ok("uname").strip() == kver
s0 = js("status0")
assert s0["livepatch_supported"] and s0["patches"] == [] and not s0["tainted_livepatch"], s0
assert "livepatch    no" in ok("info_plain")
refused("load_plain", "not a kernel live patch", "livepatch=Y")
refused("load_wrongver", "was built for kernel 9", f"the running kernel is {kver}")
assert status(js("scan0"), "CVE-2099-4242") == "missing"
assert "graft-fixture" not in ok("cmdline0")
assert "loaded graft_fixture_lp (CVE-2099-4242)" in ok("load")
assert ok("cmdline1").strip() == "graft-fixture: patched cmdline_proc_show"
s1 = js("status1")
p = s1["patches"][0]
assert s1["tainted_livepatch"] and len(s1["patches"]) == 1, s1
assert p["id"] == "graft_fixture_lp" and p["state"] == "active" and p["cves"] == ["CVE-2099-4242"], p
assert p["cves_from"] == "graft record" and p["loaded_by_graft"] and p["module"] == "/modules/graft_fixture_lp.ko", p
assert p["objects"] == [{"name": "vmlinux", "patched": True,
                         "functions": [{"name": "cmdline_proc_show", "sympos": 1}]}], p["objects"]
assert re.search(r"graft_fixture_lp +active +CVE-2099-4242 +vmlinux:cmdline_proc_show", ok("status1_text"))
sc1 = js("scan1")
c = {x["cve"]: x for x in sc1["cves"]}["CVE-2099-4242"]
assert c["status"] == "fixed-by-live-patch" and c["live_patches"] == ["graft_fixture_lp (kernel)"], c
ek = js("effective1")
assert ek["effective"] != ek["running"] and ek["effective"].endswith(".1") and ek["live_patched_cves"] == 1, ek
refused("load_again", "already loaded")
pn = js("status_norecord")["patches"][0]
assert pn["cves"] == ["CVE-2099-4242"] and pn["cves_from"] == "module parameter" and not pn["loaded_by_graft"], pn
assert "unloaded graft_fixture_lp" in ok("unload")
assert ok("cmdline2") == ok("cmdline0")
assert js("status2")["patches"] == []
assert status(js("scan2"), "CVE-2099-4242") == "missing"
refused("load_block", "could be switched within 3 s", "reversed and the module removed")
assert js("status3")["patches"] == []
assert "graft_fixture_block_lp" not in ok("modules3") and "graft_fixture_target" in ok("modules3")
p4 = js("status4")["patches"]
assert len(p4) == 1 and p4[0]["id"] == "graft_fixture_block_lp" and p4[0]["state"] == "patching", p4
assert p4[0]["cves"] == ["CVE-2099-4343"] and p4[0]["cves_from"] == "graft record", p4
refused("load_during", "graft_fixture_block_lp is still patching")
assert "unloaded graft_fixture_block_lp" in ok("unload4")
assert js("status5")["patches"] == [] and "graft_fixture_block_lp" not in ok("modules5")
# Installed for boot: only for the release each was built for.
refused("install_plain", "not a kernel live patch")
assert "installed graft_fixture_lp for kernel " + kver in ok("install"), ok("install")
assert "systemd is not running here" in ok("install")
assert "installed graft_fixture_lp for kernel 9" in ok("install_other"), ok("install_other")
assert js("status_inst")["installed"] == [{"id": "graft_fixture_lp", "loaded": False,
    "module": "/var/lib/graft/kernel/installed/" + kver + "/graft_fixture_lp.ko"}], js("status_inst")
li = js("load_installed")
assert li["loaded"] == ["graft_fixture_lp"] and li["failed"] == [] and li["already_loaded"] == [], li
assert ok("cmdline_inst").strip() == "graft-fixture: patched cmdline_proc_show"
li = js("load_installed2")
assert li["loaded"] == [] and li["already_loaded"] == ["graft_fixture_lp"], li
assert "uninstalled graft_fixture_lp" in ok("uninstall")
su = js("status_uninst")
assert su["installed"] == [] and su["patches"][0]["id"] == "graft_fixture_lp", su
ok("unload_inst")
json.dump(s1, open(w + "/guest-kernel.json", "w"))
json.dump(sc1, open(w + "/guest-scan.json", "w"))
print(f"guest checks passed ({len(g.runs)} commands)")
PY

step "fleet: the guest's graft kernel status --json, scanned on the host"
echo "linux-image-$KVER $VER amd64 $SRC $SRCVER" >"$W/packages"
fleet() { "$GRAFT" scan --db "$W/root/adv.db" --packages "$W/packages" --ecosystem deb --release Debian:12 \
  --kernel-release "$KVER" "$@"; }
fleet --live-patches "$W/guest-kernel.json" --json | grep -q '"fixed-by-live-patch"' || fail "fleet scan did not count it"
fleet --json | grep -q '"status": "missing"' || fail "without the guest's patches the CVE should be missing"
echo PASS

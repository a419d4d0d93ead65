# graft kernel build --source on the kernel itself: Debian 12's own fs/proc
# sources of the running kernel (linux-source, same version as the image, whole tree)
# and a fix (tests/kernel/cmdline-hide-secrets.patch: credentials in
# /proc/cmdline are shown as ***); graft compiles cmdline.c before and after
# with the headers' kbuild as built-in code. The fix adds a function and reads saved_command_line,
# which vmlinux does not export; graft resolves it through a livepatch
# relocation with the position from the kernel's kallsyms (read once from
# the guest: Debian's System.map is a placeholder). Booted in QEMU with a
# secret on the command line, the running kernel stops showing it, and
# shows it again after the patch is unloaded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../kernel/qemu.sh"
kernel_pick
step "sources of $KVER"
kernel_source_tree

step "vmlinux symbols"
kernel_kallsyms "$W/kallsyms"
[ "$(wc -l <"$W/kallsyms")" -gt 10000 ] || fail "kallsyms too short: $(wc -l <"$W/kallsyms")"
FIX=$(dirname "$0")/../kernel/cmdline-hide-secrets.patch
if "$GRAFT" kernel build -q --source "$KSRC" --diff "$FIX" \
   --kernel-release "$KVER" --system-map "/boot/System.map-$KVER" -o "$W/x.ko" 2>"$W/err"; then
  fail "built with Debian's placeholder System.map"
fi
grep -q "placeholder" "$W/err" || fail "placeholder map: $(cat "$W/err")"

step "graft kernel build (vmlinux)"
"$GRAFT" kernel build -q --system-map "$W/kallsyms" --source "$KSRC" --diff "$FIX" \
  --kernel-release "$KVER" --cve CVE-2099-4646 -o "$W/livepatch_cmdline.ko" --json >"$W/build.json" ||
  fail "build failed"
python3 - "$W/build.json" <<'PY' || fail "build summary: $(cat "$W/build.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["object"] == "vmlinux" and s["replaced"] == ["cmdline_proc_show"], s
assert s["added"] in ([], ["cmdline_is_secret"]), s  # gcc may inline it
assert ".klp.sym.vmlinux.saved_command_line,0" in s["klp_symbols"], s
assert not any("seq_write" in k or "strchrnul" in k for k in s["klp_symbols"]), "exported symbols through klp"
PY
readelf -SW "$W/livepatch_cmdline.ko" | grep -E '\.klp\.rela\.vmlinux\..* AIo ' >/dev/null || fail "no .klp.rela.vmlinux section"

step "guest"
mkdir -p "$W/root/modules"
cp "$W/livepatch_cmdline.ko" "$W/root/modules/"
guest_init "$W/root" <<'SH'
run cmdline0 cat /proc/cmdline
run load graft kernel load /modules/livepatch_cmdline.ko
run cmdline1 cat /proc/cmdline
run status graft kernel status --json
run unload graft kernel unload livepatch_cmdline
run cmdline2 cat /proc/cmdline
run dmesg dmesg
SH
initramfs_make "$W/root" "$W/initrd.gz"
QEMU_APPEND="graft.db_password=hunter2 quiet" qemu_boot "$W/initrd.gz" "$W/console" 300

step "check"
guest_check "$W/console.txt" <<'PY'
before = ok("cmdline0").strip()
assert "graft.db_password=hunter2" in before, before
assert "loaded livepatch_cmdline (CVE-2099-4646)" in ok("load")
after = ok("cmdline1").strip()
assert after == before.replace("graft.db_password=hunter2", "graft.db_password=***"), (before, after)
p = json.loads(ok("status"))["patches"][0]
assert p["objects"] == [{"name": "vmlinux", "patched": True,
                         "functions": [{"name": "cmdline_proc_show", "sympos": 1}]}], p
assert "unloaded livepatch_cmdline" in ok("unload")
assert ok("cmdline2").strip() == before
assert "Oops" not in ok("dmesg") and "BUG" not in ok("dmesg"), ok("dmesg")
print("guest checks passed:", after)
PY
echo PASS

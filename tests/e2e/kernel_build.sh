# graft kernel build on real kernel objects: a module built by Debian 12's
# kbuild with an off-by-one bounds check, and the same module with the fix.
# graft diffs the objects and builds a live patch module whose new code
# reaches the module's running state through livepatch relocations; booted
# in QEMU, the patch turns the bug off in the running module (its static
# counter keeps counting), follows the module when it is unloaded and loaded
# again, and is removed cleanly. A fix that writes user memory carries its
# exception-table, alternatives and bug-table entries and works with SMAP on.
# Refusals: a static-key fix, objects with no difference, a mismatched
# module, original objects that are not the running module's code (run-pre).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../kernel/qemu.sh"
kernel_pick
step "original and fixed module builds for $KVER"
fixtures_build "$W/orig"
fixtures_build "$W/fixed" -DFIXED
fixtures_build "$W/uaccess" -DFIXED_UACCESS
fixtures_build "$W/statickey" -DFIXED_STATIC_KEY
fixtures_build "$W/modulekey" -DFIXED_MODULE_KEY
fixtures_build "$W/layout" -DFIXED_LAYOUT
kernel_kallsyms "$W/kallsyms"
gcc -O2 -static -o "$W/efault_probe" "$(dirname "$0")/../kernel/efault_probe.c"

step "graft kernel build"
build() {
  "$GRAFT" kernel build --object graft_fixture_target --target-module "$W/orig/graft_fixture_target.ko" -q "$@"
}
build --orig "$W/orig/graft_fixture_target.o" --patched "$W/fixed/graft_fixture_target.o" \
  --cve CVE-2099-4444 --description "fixture off-by-one" -o "$W/lp_state.ko" --json >"$W/build.json" ||
  fail "build failed"
python3 - "$W/build.json" <<'PY' || fail "build summary: $(cat "$W/build.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["name"] == "lp_state" and s["object"] == "graft_fixture_target", s
assert sorted(s["replaced"]) == ["fixture_index_ok.constprop.0", "fixture_state_show"] or \
       sorted(s["replaced"]) == ["fixture_index_ok", "fixture_state_show"], s["replaced"]
assert any(k.startswith(".klp.sym.graft_fixture_target.fixture_reads,") for k in s["klp_symbols"]), s
assert s["klp_relocations"] >= 2 and s["orc_entries"] >= 2, s
assert not any(k.startswith(".klp.sym.vmlinux.seq_printf") for k in s["klp_symbols"]), "exported symbol via klp"
PY
"$GRAFT" kernel info "$W/lp_state.ko" --json | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["livepatch"] and m["cves"] == ["CVE-2099-4444"] and m["name"] == "lp_state", m
assert m["kernel_release"] == sys.argv[1], m' "$KVER" || fail "kernel info of the built module"
# The kernel's own view of the livepatch relocations and symbols.
readelf -SW "$W/lp_state.ko" | grep -E '\.klp\.rela\.graft_fixture_target\..* AIo ' >/dev/null ||
  fail "no SHF_ALLOC|SHF_RELA_LIVEPATCH .klp.rela section: $(readelf -SW "$W/lp_state.ko" | grep klp)"
readelf -sW "$W/lp_state.ko" | grep -E 'OS \[0xff20\] \.klp\.sym\.graft_fixture_target\.fixture_reads,0' >/dev/null ||
  fail "fixture_reads is not a SHN_LIVEPATCH symbol"

step "graft kernel build: user-memory access (exception table, alternatives, bug table)"
build --orig "$W/orig/graft_fixture_target.o" --patched "$W/uaccess/graft_fixture_target.o" \
  --cve CVE-2099-4545 -o "$W/lp_copy.ko" --json >"$W/copy.json" || fail "uaccess build failed"
python3 - "$W/copy.json" <<'PY' || fail "uaccess build summary: $(cat "$W/copy.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["replaced"] == ["fixture_copy_read"], s
t = s["tables"]
assert t.get("__ex_table", 0) >= 1 and t.get("__bug_table", 0) >= 1 and t.get(".altinstructions", 0) >= 2, t
PY
readelf -SW "$W/lp_copy.ko" | grep -E ' __bug_table +PROGBITS .* WA ' >/dev/null || fail "__bug_table must stay writable"

step "graft kernel build: a static key of vmlinux (jump label)"
build --system-map "$W/kallsyms" --orig "$W/orig/graft_fixture_target.o" --patched "$W/statickey/graft_fixture_target.o" \
  -o "$W/lp_key.ko" --json >"$W/key.json" || fail "static key build failed"
python3 - "$W/key.json" <<'PY' || fail "static key build summary: $(cat "$W/key.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert "fixture_limit" in s["replaced"], s
assert s["tables"].get("__jump_table") == 1, s
assert ".klp.sym.vmlinux.sched_schedstats,0" in s["klp_symbols"], s
PY

step "refusals"
if build --system-map "$W/kallsyms" --orig "$W/orig/graft_fixture_target.o" \
   --patched "$W/modulekey/graft_fixture_target.o" -o "$W/x.ko" 2>"$W/err"; then
  fail "a fix testing a module's static key was built"
fi
grep -q "fixture_limit" "$W/err" && grep -q "static key graft_fixture_target.fixture_small_table" "$W/err" ||
  fail "refusal: $(cat "$W/err")"
[ ! -e "$W/x.ko" ] || fail "a refused build wrote its output"
if build --orig "$W/orig/graft_fixture_target.o" --patched "$W/orig/graft_fixture_target.o" -o "$W/x.ko" 2>"$W/err"; then
  fail "identical objects built a patch"
fi
grep -q "no function changed" "$W/err" || fail "no-change refusal: $(cat "$W/err")"
if "$GRAFT" kernel build --object graft_fixture_other --target-module "$W/orig/graft_fixture_target.ko" \
   --orig "$W/orig/graft_fixture_target.o" --patched "$W/fixed/graft_fixture_target.o" -o "$W/x.ko" 2>"$W/err"; then
  fail "a mismatched --object was accepted"
fi
grep -q "is module graft_fixture_target, not graft_fixture_other" "$W/err" || fail "mismatch: $(cat "$W/err")"
# A struct layout change (from DWARF): objects the kernel holds keep the old one.
if build --orig "$W/orig/graft_fixture_target.o" --patched "$W/layout/graft_fixture_target.o" -o "$W/x.ko" 2>"$W/err"; then
  fail "a struct layout change was built"
fi
grep -q "struct fixture_item: 8 -> 16 bytes" "$W/err" || fail "layout refusal: $(cat "$W/err")"
build --orig "$W/orig/graft_fixture_target.o" --patched "$W/layout/graft_fixture_target.o" -o "$W/x.ko" \
  --allow-layout-change "struct fixture_item" >/dev/null || fail "--allow-layout-change did not allow it"
rm -f "$W/x.ko"
# Run-pre: original objects that are not the code of the running module.
if build --orig "$W/statickey/graft_fixture_target.o" --patched "$W/fixed/graft_fixture_target.o" -o "$W/x.ko" 2>"$W/err"; then
  fail "a patch from objects that do not match the module was built"
fi
grep -q "run-pre: function 'fixture_limit'" "$W/err" ||
  fail "run-pre refusal: $(cat "$W/err")"

step "guest"
mkdir -p "$W/root/modules"
cp "$W/orig/graft_fixture_target.ko" "$W/lp_state.ko" "$W/lp_copy.ko" "$W/lp_key.ko" "$W/root/modules/"
mkdir -p "$W/root/bin" && cp "$W/efault_probe" "$W/root/bin/"
guest_init "$W/root" <<'SH'
M=/modules
run insmod insmod $M/graft_fixture_target.ko
run state0 cat /proc/graft_fixture_state
run load graft kernel load $M/lp_state.ko
run state1 cat /proc/graft_fixture_state
run state2 cat /proc/graft_fixture_state
run status1 graft kernel status --json
run rmmod rmmod graft_fixture_target
run status2 graft kernel status --json
run insmod2 insmod $M/graft_fixture_target.ko
run state3 cat /proc/graft_fixture_state
run unload graft kernel unload lp_state
grep -q graft_fixture_target /proc/modules || run insmod3 insmod $M/graft_fixture_target.ko
run state4 cat /proc/graft_fixture_state
run status3 graft kernel status --json
run cpuinfo grep -c smap /proc/cpuinfo
run copy0 efault_probe /proc/graft_fixture_copy
run load_copy graft kernel load $M/lp_copy.ko
run copy1 efault_probe /proc/graft_fixture_copy
run unload_copy graft kernel unload lp_copy
run copy2 efault_probe /proc/graft_fixture_copy
run load_key graft kernel load $M/lp_key.ko
run key_off cat /proc/graft_fixture_state
echo 1 > /proc/sys/kernel/sched_schedstats
run key_on cat /proc/graft_fixture_state
echo 0 > /proc/sys/kernel/sched_schedstats
run key_off2 cat /proc/graft_fixture_state
run unload_key graft kernel unload lp_key
run dmesg dmesg
SH
initramfs_make "$W/root" "$W/initrd.gz"
qemu_boot "$W/initrd.gz" "$W/console" 300

step "check"
guest_check "$W/console.txt" <<'PY'
ok("insmod")
assert ok("state0").strip() == "reads=1 index 8 accepted=1", ok("state0")
assert "loaded lp_state (CVE-2099-4444)" in ok("load")
# The fixed code answers, and it counts on the module's own counter.
assert ok("state1").strip() == "reads=2 index 8 accepted=0 (checked)", ok("state1")
assert ok("state2").strip() == "reads=3 index 8 accepted=0 (checked)", ok("state2")
p = json.loads(ok("status1"))["patches"]
assert len(p) == 1 and p[0]["id"] == "lp_state" and p[0]["state"] == "active", p
obj = p[0]["objects"][0]
assert obj["name"] == "graft_fixture_target" and obj["patched"], obj
assert {f["name"].split(".")[0] for f in obj["functions"]} == {"fixture_state_show", "fixture_index_ok"}, obj
# With the module gone the patch waits for it. Loaded again, it is patched at
# once on kernels that clear livepatch relocations when a module goes away
# (upstream since 6.6); older ones, like Debian 12's 6.1, refuse to load the
# module while the patch is active rather than run it half-patched.
ok("rmmod")
assert not json.loads(ok("status2"))["patches"][0]["objects"][0]["patched"]
if g.rc("insmod2") == 0:
    assert ok("state3").strip() == "reads=1 index 8 accepted=0 (checked)", ok("state3")
    reads_after = 2
else:
    assert "refusing to load module 'graft_fixture_target'" in ok("dmesg"), ok("dmesg")
    ok("insmod3")
    reads_after = 1
assert "unloaded lp_state" in ok("unload")
assert ok("state4").strip() == f"reads={reads_after} index 8 accepted=1", ok("state4")
assert json.loads(ok("status3"))["patches"] == []
# User-memory access in the new code: with SMAP on, the store works only if
# the alternatives (stac/clac) were applied to it, and the fault on a bad
# address is handled only through its exception-table entry.
assert int(ok("cpuinfo")) >= 1, "the guest CPU has no SMAP"
assert ok("copy0").strip() == "byte=n bad-read=Bad address", ok("copy0")
assert "loaded lp_copy (CVE-2099-4545)" in ok("load_copy")
assert ok("copy1").strip() == "byte=y bad-read=Bad address", ok("copy1")
assert "unloaded lp_copy" in ok("unload_copy")
assert ok("copy2").strip() == "byte=n bad-read=Bad address", ok("copy2")
# The carried jump label follows vmlinux's key both ways.
ok("load_key")
assert re.fullmatch(r"reads=\d+ limit=8", ok("key_off").strip()), ok("key_off")
assert re.fullmatch(r"reads=\d+ limit=4", ok("key_on").strip()), ok("key_on")
assert re.fullmatch(r"reads=\d+ limit=8", ok("key_off2").strip()), ok("key_off2")
assert "unloaded lp_key" in ok("unload_key")
assert "BUG" not in ok("dmesg") and "Oops" not in ok("dmesg") and "unable to handle" not in ok("dmesg"), ok("dmesg")
print(f"guest checks passed ({len(g.runs)} commands)")
PY
echo PASS

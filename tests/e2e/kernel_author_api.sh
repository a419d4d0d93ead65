# What a kernel fix's author declares with <graft/livepatch.h>, on Debian's
# kernel in QEMU. tests/kernel/author_fixture holds a module with a live
# object (a struct note allocated at load, shown by /proc/graft_fixture_note)
# and two fixes of it:
#   notes-read-counter.patch: counts reads of the note in a shadow variable;
#     its pre-patch callback refuses while the module's note_frozen is set,
#     its post-patch callback attaches a counter (starting at 100) to the
#     note that already exists, its post-unpatch callback frees them all;
#     a changed function it marks GRAFT_IGNORE_FUNCTION is not replaced.
#   notes-read-counter-v2.patch, built with --replace: a cumulative patch
#     that takes the counters over and prints "v2".
# And tests/kernel/cmdline-callbacks.patch, a fix to built-in code
# (fs/proc/cmdline.c) built with --debian-source: the header reaches the
# kernel's own compile and the callbacks land in vmlinux's klp_object.
# In the guest: a refused pre-patch fails the load with the kernel's reason
# and leaves nothing loaded; the callbacks run in order and what they do is
# seen in /proc; unloading and loading again shows the counters were freed
# (a leaked one would make klp_shadow_alloc warn); the cumulative patch
# replaces the first (its module removed, or kept with --keep-replaced and
# shown as replaced), and unloading it returns to the original code.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../kernel/qemu.sh"
kernel_pick
FIX=$(cd "$(dirname "$0")/../kernel/author_fixture" && pwd)

step "original and fixed module builds for $KVER"
INC=$("$GRAFT" kernel header --dir "$W/include") || fail "graft kernel header"
[ -f "$W/include/graft/livepatch.h" ] || fail "no header written"
notes_build "$W/orig"
notes_build "$W/a" notes-read-counter.patch
notes_build "$W/b" notes-read-counter-v2.patch

step "graft kernel build: callbacks, shadow variables, an ignored function"
build() {
  "$GRAFT" kernel build --object graft_fixture_notes --target-module "$W/orig/graft_fixture_notes.ko" \
    --orig "$W/orig/graft_fixture_notes.o" -q --json "$@"
}
build --patched "$W/a/graft_fixture_notes.o" -o "$W/lp_notes_a.ko" >"$W/a.json" || fail "build A"
build --patched "$W/b/graft_fixture_notes.o" --replace -o "$W/lp_notes_b.ko" >"$W/b.json" || fail "build B"
python3 - "$W/a.json" "$W/b.json" <<'PY' || fail "build summaries: $(cat "$W/a.json" "$W/b.json")"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["replaced"] == ["note_show"], a["replaced"]
assert a["callbacks"] == {"pre_patch": "note_fix_pre_patch", "post_patch": "note_fix_post_patch",
                          "pre_unpatch": "note_fix_pre_unpatch", "post_unpatch": "note_fix_post_unpatch"}, a
assert a["ignored"] == ["note_greeting (marked in the source)"], a["ignored"]
assert not a["replace"] and b["replace"], (a["replace"], b["replace"])
assert b["callbacks"] == {"post_patch": "note_fix2_post_patch", "post_unpatch": "note_fix2_post_unpatch"}, b
# The shadow-variable API is exported by the livepatch core: ordinary symbols.
assert not any("klp_shadow" in k for k in a["klp_symbols"] + b["klp_symbols"]), a["klp_symbols"]
assert any(k.startswith(".klp.sym.graft_fixture_notes.the_note,") for k in a["klp_symbols"]), a
PY
"$GRAFT" kernel info "$W/lp_notes_b.ko" | grep -q '^cumulative   yes' || fail "info B: $("$GRAFT" kernel info "$W/lp_notes_b.ko")"
"$GRAFT" kernel info "$W/lp_notes_a.ko" | grep -q '^cumulative   no' || fail "info A"
"$GRAFT" kernel info "$W/lp_notes_a.ko" --json | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["replace"] is False and m["callbacks"] == "pre_patch,post_patch,pre_unpatch,post_unpatch", m' ||
  fail "info A --json"

step "init code: constants changed in it are left out and said so; GRAFT_IGNORE_FUNCTION marks it"
# A fix that also changes a constant in what note_init (module_init: alias
# init_module) sets up: that code ran when the module loaded and is gone, so
# nothing of it can be patched; the summary lists it as left out.
mkdir -p "$W/init" "$W/init_ignored"
sed 's/the_note->id = 1;/the_note->id = 2;/; s/"note %d: %s\\n"/"note #%d: %s\\n"/' "$FIX/graft_fixture_notes.c" \
  >"$W/init/graft_fixture_notes.c"
grep -q 'id = 2' "$W/init/graft_fixture_notes.c" && grep -q 'note #%d' "$W/init/graft_fixture_notes.c" ||
  fail "init variant: $(grep -n 'id =\|seq_printf' "$W/init/graft_fixture_notes.c")"
{ cat "$W/init/graft_fixture_notes.c"; printf '#include <graft/livepatch.h>\nGRAFT_IGNORE_FUNCTION(note_init);\n'; } \
  >"$W/init_ignored/graft_fixture_notes.c"
for d in init init_ignored; do
  cp "$FIX/Kbuild" "$W/$d/"
  make -s -C "/usr/src/linux-headers-$KVER" M="$W/$d" KCFLAGS="$INC" modules >"$W/$d/build.log" 2>&1 ||
    fail "building $d: $(tail -20 "$W/$d/build.log")"
done
build --patched "$W/init/graft_fixture_notes.o" -o "$W/x.ko" >"$W/init0.json" 2>"$W/err" ||
  fail "init constants: $(cat "$W/err")"
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["replaced"] == ["note_show"], s
assert any(i.startswith("init_module (init code, freed after boot") for i in s["ignored"]), s' "$W/init0.json" ||
  fail "init code not listed as left out: $(cat "$W/init0.json")"
build --patched "$W/init_ignored/graft_fixture_notes.o" -o "$W/x.ko" >"$W/init.json" ||
  fail "GRAFT_IGNORE_FUNCTION(note_init) did not leave it out"
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["replaced"] == ["note_show"] and s["ignored"] == ["init_module (marked in the source)"], s' "$W/init.json" ||
  fail "init ignored: $(cat "$W/init.json")"

step "graft kernel build --debian-source: callbacks on vmlinux"
export GRAFT_CACHE=${GRAFT_CACHE:-/var/cache/graft-tests}
kernel_kallsyms "$W/kallsyms"
"$GRAFT" kernel build --debian-source --diff "$(dirname "$0")/../kernel/cmdline-callbacks.patch" \
  --system-map "$W/kallsyms" --kernel-release "$KVER" -o "$W/lp_cmdline_cb.ko" --json >"$W/vm.json" 2>"$W/progress" ||
  fail "vmlinux build: $(cat "$W/progress")"
python3 - "$W/vm.json" <<'PY' || fail "vmlinux build summary: $(cat "$W/vm.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["object"] == "vmlinux" and s["replaced"] == ["cmdline_proc_show"], s
assert s["callbacks"] == {"post_patch": "cmdline_fix_post_patch", "post_unpatch": "cmdline_fix_post_unpatch"}, s
PY

step "guest"
mkdir -p "$W/root/modules"
cp "$W/orig/graft_fixture_notes.ko" "$W/lp_notes_a.ko" "$W/lp_notes_b.ko" "$W/lp_cmdline_cb.ko" "$W/root/modules/"
guest_init "$W/root" <<'SH'
M=/modules
P=/sys/module/graft_fixture_notes/parameters/note_frozen
run insmod insmod $M/graft_fixture_notes.ko
run note0 cat /proc/graft_fixture_note
echo Y > $P
run load_frozen graft kernel load $M/lp_notes_a.ko
run status_frozen graft kernel status --json
run modules_frozen cat /proc/modules
run note_frozen cat /proc/graft_fixture_note
echo N > $P
run load_a graft kernel load $M/lp_notes_a.ko
run note_a1 cat /proc/graft_fixture_note
run note_a2 cat /proc/graft_fixture_note
run unload_a graft kernel unload lp_notes_a
run note_orig1 cat /proc/graft_fixture_note
run load_a2 graft kernel load $M/lp_notes_a.ko
run note_a3 cat /proc/graft_fixture_note
run load_b graft kernel load $M/lp_notes_b.ko
run note_b1 cat /proc/graft_fixture_note
run status_b graft kernel status --json
run status_b_table graft kernel status
run modules_b cat /proc/modules
run unload_b graft kernel unload lp_notes_b
run note_orig2 cat /proc/graft_fixture_note
run status_none graft kernel status --json
run load_a3 graft kernel load $M/lp_notes_a.ko
run load_b_keep graft kernel load --keep-replaced $M/lp_notes_b.ko
run status_keep graft kernel status --json
run status_keep_table graft kernel status
run unload_a_left graft kernel unload lp_notes_a
run note_b2 cat /proc/graft_fixture_note
run unload_b2 graft kernel unload lp_notes_b
run note_orig3 cat /proc/graft_fixture_note
run modules_end cat /proc/modules
run load_vm graft kernel load $M/lp_cmdline_cb.ko
run cmdline_vm cat /proc/cmdline
run unload_vm graft kernel unload lp_cmdline_cb
run cmdline_orig cat /proc/cmdline
run dmesg dmesg
SH
initramfs_make "$W/root" "$W/initrd.gz"
qemu_boot "$W/initrd.gz" "$W/console" 300

step "check"
guest_check "$W/console.txt" <<'PY'
ok("insmod")
orig = "note 1: hello"
assert ok("note0").strip() == orig, ok("note0")
# The pre-patch callback refuses: the load fails with the kernel's reason
# and nothing stays loaded.
refused("load_frozen", "pre_patch callback refused", "pre-patch callback failed for object 'graft_fixture_notes'")
assert js("status_frozen")["patches"] == [], ok("status_frozen")
assert "lp_notes_a" not in ok("modules_frozen"), ok("modules_frozen")
assert ok("note_frozen").strip() == orig
# Patched: post_patch attached a counter at 100 to the note that existed;
# the new note_show counts in it. The ignored greeting change is not applied.
ok("load_a")
assert ok("note_a1").strip() == "note 1: hello (read 101 times)", ok("note_a1")
assert ok("note_a2").strip() == "note 1: hello (read 102 times)", ok("note_a2")
assert "unloaded lp_notes_a" in ok("unload_a")
assert ok("note_orig1").strip() == orig, ok("note_orig1")
# Loaded again: post_unpatch had freed the counter (else klp_shadow_alloc
# would have found a duplicate and left it at 102).
ok("load_a2")
assert ok("note_a3").strip() == "note 1: hello (read 101 times)", ok("note_a3")
# Cumulative: B replaces A atomically and takes its counter over.
out = ok("load_b")
assert "replaced lp_notes_a" in out and "modules removed" in out, out
assert ok("note_b1").strip() == "note 1: hello (read 102 times, v2)", ok("note_b1")
st = js("status_b")["patches"]
assert [p["id"] for p in st] == ["lp_notes_b"], st
assert st[0]["state"] == "active" and st[0]["replace"] and st[0]["replaced"] == ["lp_notes_a"], st
assert "cumulative, replaced lp_notes_a when loaded" in ok("status_b_table"), ok("status_b_table")
assert "lp_notes_a" not in ok("modules_b"), ok("modules_b")
assert "unloaded lp_notes_b" in ok("unload_b")
assert ok("note_orig2").strip() == orig, ok("note_orig2")
assert js("status_none")["patches"] == []
# --keep-replaced: A's module stays, shown as replaced by B, removable.
ok("load_a3")
assert "still loaded: lp_notes_a" in ok("load_b_keep"), ok("load_b_keep")
st = {p["id"]: p for p in js("status_keep")["patches"]}
assert st["lp_notes_a"]["state"] == "replaced" and st["lp_notes_a"]["replaced_by"] == "lp_notes_b", st
assert st["lp_notes_b"]["state"] == "active" and st["lp_notes_b"]["replaced"] == ["lp_notes_a"], st
assert re.search(r"lp_notes_a +replaced .*replaced by lp_notes_b", ok("status_keep_table")), ok("status_keep_table")
assert "removed lp_notes_a" in ok("unload_a_left"), ok("unload_a_left")
assert ok("note_b2").strip() == "note 1: hello (read 101 times, v2)", ok("note_b2")
ok("unload_b2")
assert ok("note_orig3").strip() == orig, ok("note_orig3")
assert "lp_notes" not in ok("modules_end"), ok("modules_end")
# Built-in code: the callbacks of vmlinux's klp_object.
ok("load_vm")
assert ok("cmdline_vm").startswith("console=ttyS0") and ok("cmdline_vm").strip().endswith(" graft.fixed"), ok("cmdline_vm")
ok("unload_vm")
assert ok("cmdline_orig").startswith("console=ttyS0") and "graft.fixed" not in ok("cmdline_orig"), ok("cmdline_orig")
# The callbacks ran, in order, and nothing warned.
d = ok("dmesg")
seq = re.findall(r"graft_fixture_notes fix(?: v2)?: (pre_patch|post_patch|pre_unpatch|post_unpatch)", d)
assert seq == ["pre_patch", "post_patch", "pre_unpatch", "post_unpatch",   # A, unloaded
               "pre_patch", "post_patch", "post_patch", "post_unpatch",    # A again, B replaces it, B unloaded
               "pre_patch", "post_patch", "post_patch", "post_unpatch"], seq  # the same, A kept
assert "the note is frozen, not patching" in d, d
assert "took over a counter at 101" in d, d
assert re.findall(r"graft cmdline fix: (\S+) for (\S+)", d) == [("post_patch", "vmlinux"), ("post_unpatch", "vmlinux")], d
for bad in ("WARNING", "Duplicate shadow", "BUG", "Oops", "unable to handle"):
    assert bad not in d, (bad, d)
print(f"guest checks passed ({len(g.runs)} commands)")
PY
echo PASS

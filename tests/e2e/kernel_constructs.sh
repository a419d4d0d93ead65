# Kernel live patches of real Debian 12 kernel files, each full of the
# constructs a kernel build emits around the code: static_cpu_has()
# fallbacks (.altinstr_aux), lockdep keys and other renumbered static
# locals (__key.N, __func__.N, __already_done.N), tracepoint definitions and
# calls (__tracepoints, .static_call.text, .static_call_sites), dynamic debug
# descriptors (__dyndbg), exports (___ksymtab+*) and objtool annotations
# (.discard.*). Each fix in tests/kernel/constructs/ is compiled before and
# after exactly as Debian's kernel is (the headers' kbuild over the full
# linux-source tree of the image's version, built-in flags), graft builds a
# live patch from the two objects, and the summary must name exactly the
# functions the fix changes. One QEMU boot of Debian's kernel then loads all
# of them and checks what each changes where user space sees it:
#   meminfo.patch  /proc/meminfo gains a line (meminfo_proc_show reaches
#                  pgtable_l5_enabled(), a static_cpu_has()); its new
#                  pr_debug() prints once enabled in dynamic debug;
#   fork.patch     kernel/fork.c: threads-max refuses values below 20
#                  (sysctl_max_threads), copy_process (tracepoint
#                  task_newtask, lockdep keys) gains a pr_debug(); the
#                  tracepoint, enabled, records the forks the new code makes;
#   params.patch   kernel/params.c: the exported param_get_bool prints y/n,
#                  parse_one (inlined into parse_args) gains a pr_debug(),
#                  and the existing ones travel with it; a new function is
#                  exported, which a module (export_user/) can call while the
#                  patch is loaded and not before;
# and after unloading, all is as before, with no oops.
# fork-notrace.patch changes __do_sys_clone3, which has no ftrace entry: the
# build is refused, naming it.
# GRAFT_KERNEL_TREE: an extracted linux-source tree of the image's version to
# use instead of extracting one into $GRAFT_CACHE.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../kernel/qemu.sh"
kernel_pick
CONSTRUCTS=$(cd "$(dirname "$0")/../kernel/constructs" && pwd)

step "full linux-source tree of $KVER"
TREE=${GRAFT_KERNEL_TREE:-}
if [ -z "$TREE" ]; then
  kernel_source_tree  # the whole tree, shared with graft kernel build --debian-source
  TREE=$KSRC
fi
[ -f "$TREE/Makefile" ] || fail "no kernel tree at $TREE"

# objtree NAME SRC: the headers' objtree (configuration, generated headers,
# Module.symvers) building SRC's files; scripts/ and tools/ are relative
# links in the package, made absolute for the copy.
objtree() {
  local out=$W/$1 src=$2 headers=/usr/src/linux-headers-$KVER l
  cp -a "$headers" "$out"
  for l in scripts tools; do
    [ -L "$headers/$l" ] && ln -sfn "$(readlink -f "$headers/$l")" "$out/$l"
  done
  echo "include $src/Makefile" >"$out/Makefile"
}
# materialize DIR SRC REL: DIR mirrors SRC with links, except along REL: its
# directories are real ones (mirroring theirs) and REL itself a copy. (A
# full link farm is 84,000 links, slow to make and to remove.)
materialize() {
  local dir=$1 src=$2 rel=$3 head e
  mkdir -p "$dir"
  for e in $(ls -A "$src"); do [ -e "$dir/$e" ] || [ -L "$dir/$e" ] || ln -s "$src/$e" "$dir/$e"; done
  head=${rel%%/*}
  if [ "$head" = "$rel" ]; then
    rm -f "$dir/$rel" && cp "$src/$rel" "$dir/$rel"
    return
  fi
  if [ -L "$dir/$head" ]; then rm "$dir/$head" && mkdir "$dir/$head"; fi
  materialize "$dir/$head" "$src/$head" "${rel#*/}"
}
# fixed NAME PATCH: $TREE with the files PATCH changes copied and patched.
fixed() {
  local dir=$W/$1 f
  for f in $(sed -n 's|^+++ b/||p' "$2"); do materialize "$dir" "$TREE" "$f"; done
  patch -s -p1 -d "$dir" <"$2" || fail "$2 does not apply"
}
# compile OBJTREE FILE.o: as Debian's kbuild builds it, with per-function
# and per-variable sections.
compile() {
  (cd "$W/$1" && make -s M="$(dirname "$2")" KCFLAGS='-ffunction-sections -fdata-sections' "$(basename "$2")") \
    >"$W/$1.log" 2>&1 || fail "compiling $2 in $1: $(tail -20 "$W/$1.log")"
  [ -f "$W/$1/$2" ] || fail "no $2 in $1"
}

step "compile original and fixed objects"
objtree orig "$TREE"
for fix in meminfo fork params fork-notrace; do
  fixed "src-$fix" "$CONSTRUCTS/$fix.patch"
  objtree "obj-$fix" "$W/src-$fix"
done
for o in fs/proc/meminfo.o kernel/fork.o kernel/params.o; do compile orig "$o"; done
compile obj-meminfo fs/proc/meminfo.o
compile obj-fork kernel/fork.o
compile obj-params kernel/params.o
compile obj-fork-notrace kernel/fork.o
kernel_kallsyms "$W/kallsyms"
mkdir -p "$W/export_user"
cp "$CONSTRUCTS/export_user/"* "$W/export_user/"
# Built against the patch's export as against any module's: its CRC (the
# one kbuild computed for the fixed file, which the patch module carries) in
# a Module.symvers given as KBUILD_EXTRA_SYMBOLS.
crc=$(sed -n 's/^#SYMVER graft_constructs_answer //p' "$W/obj-params/kernel/.params.o.cmd")
[ -n "$crc" ] || fail "no CRC for graft_constructs_answer in the fixed params.o's .cmd"
printf '%s\tgraft_constructs_answer\tlp_params\tEXPORT_SYMBOL\t\n' "$crc" >"$W/lp_params.symvers"
make -s -C "/usr/src/linux-headers-$KVER" M="$W/export_user" KBUILD_EXTRA_SYMBOLS="$W/lp_params.symvers" modules \
  >"$W/export_user.log" 2>&1 || fail "building export_user: $(tail -20 "$W/export_user.log")"

step "graft kernel build"
kbuild() {  # NAME OBJECT
  "$GRAFT" kernel build -q --orig "$W/orig/$2" --patched "$W/obj-$1/$2" --kernel-release "$KVER" \
    --system-map "$W/kallsyms" -o "$W/root/modules/lp_$1.ko" --json >"$W/$1.json" 2>"$W/$1.err" ||
    fail "$1: $(cat "$W/$1.err")"
}
mkdir -p "$W/root/modules"
kbuild meminfo fs/proc/meminfo.o
kbuild fork kernel/fork.o
kbuild params kernel/params.o
python3 - "$W" <<'PY' || fail "build summaries"
import json, sys
w = sys.argv[1]
def summary(n):
    s = json.load(open(f"{w}/{n}.json"))
    print(n, "replaced", s["replaced"], "tables", s["tables"], "dropped", s["dropped"])
    return s
m = summary("meminfo")
assert m["replaced"] == ["meminfo_proc_show"], m
assert m["tables"].get(".altinstr_aux", 0) >= 1, m          # static_cpu_has() fallback
assert m["tables"].get("__dyndbg") == 1, m                  # the new pr_debug
f = summary("fork")
assert sorted(f["replaced"]) == ["copy_process", "sysctl_max_threads"], f
assert f["tables"].get("__dyndbg") == 1, f
assert ".klp.sym.vmlinux.__SCT__tp_func_task_newtask,0" in f["klp_symbols"], f
assert any(k.startswith(".klp.sym.vmlinux.__tracepoint_") for k in f["klp_symbols"]), f
assert any(d.startswith(".static_call_sites") for d in f["dropped"]), f
p = summary("params")
# gcc inlines parse_one into parse_args (its only caller): the fix changes
# parse_args, whose pr_debug()s (its own, parse_one's three, the new one) travel.
assert sorted(p["replaced"]) in (["param_get_bool", "parse_args"], ["param_get_bool", "parse_one"]), p
assert p["tables"].get("__dyndbg") in (4, 5), p
assert "graft_constructs_answer" in p["added"], p
assert "exports new function graft_constructs_answer" in p["notes"], p   # with the CRC kbuild computed
PY
cp "$W/export_user/graft_export_user.ko" "$W/root/modules/"
if "$GRAFT" kernel build -q --orig "$W/orig/kernel/fork.o" --patched "$W/obj-fork-notrace/kernel/fork.o" \
   --kernel-release "$KVER" --system-map "$W/kallsyms" -o "$W/notrace.ko" 2>"$W/notrace.err"; then
  fail "a fix of notrace __do_sys_clone3 was built"
fi
grep -q "'__do_sys_clone3'.*no ftrace entry.*functions that call it" "$W/notrace.err" || fail "notrace: $(cat "$W/notrace.err")"

step "guest"
guest_init "$W/root" <<'SH'
dd() { echo "$1" >/proc/dynamic_debug/control; }
run meminfo0 grep -c GraftConstructs /proc/meminfo
run bool0 cat /sys/module/printk/parameters/time
run export0 insmod /modules/graft_export_user.ko
run load_meminfo graft kernel load /modules/lp_meminfo.ko
run load_fork graft kernel load /modules/lp_fork.ko
run load_params graft kernel load /modules/lp_params.ko
run meminfo1 grep GraftConstructs /proc/meminfo
run dd_meminfo dd 'func meminfo_proc_show +p'
run dd_fork dd 'func copy_process +p'
run dyndbg grep graft-constructs /proc/dynamic_debug/control
run meminfo2 cat /proc/meminfo
run forked sh -c 'echo child $$'
run tp_on sh -c 'mount -t tracefs nodev /sys/kernel/tracing && echo 1 >/sys/kernel/tracing/events/task/task_newtask/enable'
run tp_fork sh -c 'echo traced child $$'
run tp_trace grep task_newtask /sys/kernel/tracing/trace
run threads0 cat /proc/sys/kernel/threads-max
run threads_low sh -c 'echo 10 >/proc/sys/kernel/threads-max'
run threads1 cat /proc/sys/kernel/threads-max
run bool1 cat /sys/module/printk/parameters/time
run export1 insmod /modules/graft_export_user.ko
run export_rm rmmod graft_export_user
run status graft kernel status --json
run dmesg1 dmesg
run unload_params graft kernel unload lp_params
run unload_fork graft kernel unload lp_fork
run unload_meminfo graft kernel unload lp_meminfo
run meminfo3 grep -c GraftConstructs /proc/meminfo
run bool2 cat /sys/module/printk/parameters/time
run dmesg2 dmesg
SH
initramfs_make "$W/root" "$W/initrd.gz"
qemu_boot "$W/initrd.gz" "$W/console" 400

step "check"
guest_check "$W/console.txt" <<'PY'
assert g.runs["meminfo0"][0].strip() == "0", g.runs["meminfo0"][0]
bool0 = ok("bool0").strip()
assert bool0 in ("Y", "N"), bool0
for n in ("meminfo", "fork", "params"):
    assert f"loaded lp_{n}" in ok("load_" + n), ok("load_" + n)
assert ok("meminfo1").split() == ["GraftConstructs:", "1"], ok("meminfo1")
ok("dd_meminfo"); ok("dd_fork")
assert "meminfo_proc_show" in ok("dyndbg") and "copy_process" in ok("dyndbg"), ok("dyndbg")
ok("meminfo2"); ok("forked"); ok("tp_on"); ok("tp_fork")
# The tracepoint in the patched copy_process: its jump label (key in vmlinux)
# switched on with the event, its call through the static call trampoline.
assert "task_newtask" in ok("tp_trace"), ok("tp_trace")
threads = ok("threads0").strip()
assert g.rc("threads_low") != 0, "threads-max accepted 10 with the patch"
assert ok("threads1").strip() == threads, (threads, ok("threads1"))
assert ok("bool1").strip() == bool0.lower(), ok("bool1")
assert g.rc("export0") != 0, "the new export resolved before the patch was loaded"
ok("export1"); ok("export_rm")
patches = {p["id"]: p for p in json.loads(ok("status"))["patches"]}
assert sorted(patches) == ["lp_fork", "lp_meminfo", "lp_params"], patches
d1 = ok("dmesg1")
assert "graft-constructs: meminfo shown" in d1, d1            # the carried descriptor, enabled
assert re.search(r"graft-constructs: copy_process \d+", d1), d1
assert "graft-constructs: the patch's export answers 42" in d1, d1
for n in ("params", "fork", "meminfo"):
    assert f"unloaded lp_{n}" in ok("unload_" + n), ok("unload_" + n)
assert g.runs["meminfo3"][0].strip() == "0", g.runs["meminfo3"][0]
assert ok("bool2").strip() == bool0, ok("bool2")
d2 = ok("dmesg2")
for bad in ("Oops", "BUG:", "WARNING:", "general protection"):
    assert bad not in d2, d2
print("guest checks passed")
PY
echo PASS

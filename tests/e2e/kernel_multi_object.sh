# One fix spanning vmlinux and a module, in the "src.orig/ src/" diff form
# quilt and many mailing-list patches use: fs/proc/cmdline.c (built in) and
# net/netfilter/nft_payload.c (nf_tables.ko) change together. graft kernel
# build --debian-source compiles both in the kernel's whole source tree (an
# overlay holds the fixed files), finds that one file is vmlinux and the
# other nf_tables, checks the nf_tables original against Debian's module
# (run-pre), and writes ONE live patch module with two klp_objects. In QEMU:
# the vmlinux half acts at once (/proc/cmdline hides the secret), the
# nf_tables half when Debian's nf_tables.ko is loaded; unloading undoes both.
# Also: sources of another kernel version are refused before any compile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../kernel/qemu.sh"
kernel_pick
export GRAFT_CACHE=${GRAFT_CACHE:-/var/cache/graft-tests}
K=$(dirname "$0")/../kernel
{ sed -n '/^--- a\//,$p' "$K/cmdline-hide-secrets.patch"; sed -n '/^--- a\//,$p' "$K/nft-payload-zero-length.patch"; } |
  sed 's#^--- a/#--- src.orig/#; s#^+++ b/#+++ src/#' >"$W/multi.patch"
[ "$(grep -c '^+++ src/' "$W/multi.patch")" = 2 ] || fail "multi.patch: $(cat "$W/multi.patch")"

step "sources of another version are refused"
mkdir -p "$W/other"
printf 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 1\n' >"$W/other/Makefile"
if "$GRAFT" kernel build -q --source "$W/other" --diff "$W/multi.patch" --kernel-release "$KVER" -o "$W/x.ko" 2>"$W/err"; then
  fail "built from the sources of Linux 6.1.1"
fi
grep -q "holds the sources of Linux 6.1.1, but kernel $KVER is 6.1." "$W/err" || fail "version refusal: $(cat "$W/err")"

step "graft kernel build --debian-source (vmlinux + nf_tables)"
kernel_kallsyms "$W/kallsyms"
"$GRAFT" kernel build --debian-source --diff "$W/multi.patch" --system-map "$W/kallsyms" \
  --kernel-release "$KVER" --cve CVE-2099-4848 -o "$W/livepatch_multi.ko" --json >"$W/build.json" 2>"$W/progress" ||
  fail "build failed: $(cat "$W/progress")"
grep -q "run-pre: checking the original objects against /lib/modules/$KVER/kernel/net/netfilter/nf_tables.ko" \
  "$W/progress" || fail "no run-pre against the installed module: $(cat "$W/progress")"
python3 - "$W/build.json" <<'PY' || fail "build summary: $(cat "$W/build.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["object"] == "vmlinux,nf_tables", s
assert s["replaced"] == ["vmlinux:cmdline_proc_show", "nf_tables:nft_payload_init"], s
assert ".klp.sym.vmlinux.saved_command_line,0" in s["klp_symbols"], s
assert ".klp.sym.nf_tables.nft_parse_register_store,0" in s["klp_symbols"], s
PY

step "guest"
mkdir -p "$W/root/modules"
cp "$W/livepatch_multi.ko" "$W/root/modules/"
nf_tables_modules "$W/root/modules"
guest_init "$W/root" <<'SH'
M=/modules
run cmdline0 cat /proc/cmdline
run load graft kernel load $M/livepatch_multi.ko
run cmdline1 cat /proc/cmdline
run status0 graft kernel status --json
run deps sh -c "insmod $M/crc32c_generic.ko && insmod $M/libcrc32c.ko && insmod $M/nfnetlink.ko"
run nf_tables insmod $M/nf_tables.ko
run status1 graft kernel status --json
run unload graft kernel unload livepatch_multi
run cmdline2 cat /proc/cmdline
run dmesg dmesg
SH
initramfs_make "$W/root" "$W/initrd.gz"
QEMU_APPEND="graft.db_password=hunter2 quiet" qemu_boot "$W/initrd.gz" "$W/console" 300

step "check"
guest_check "$W/console.txt" <<'PY'
before = ok("cmdline0").strip()
assert "graft.db_password=hunter2" in before, before
assert "loaded livepatch_multi (CVE-2099-4848)" in ok("load")
assert ok("cmdline1").strip() == before.replace("hunter2", "***"), ok("cmdline1")
objs = {o["name"]: o for o in js("status0")["patches"][0]["objects"]}
assert objs["vmlinux"]["patched"] and not objs["nf_tables"]["patched"], objs
ok("deps")
ok("nf_tables")
objs = {o["name"]: o for o in js("status1")["patches"][0]["objects"]}
assert objs["nf_tables"]["patched"] and objs["nf_tables"]["functions"] == [{"name": "nft_payload_init", "sympos": 1}], objs
assert "unloaded livepatch_multi" in ok("unload")
assert ok("cmdline2").strip() == before
d = ok("dmesg")
assert "livepatch: applying patch 'livepatch_multi' to loading module 'nf_tables'" in d, d
assert "Oops" not in d and "BUG" not in d, d
print("guest checks passed")
PY
echo PASS

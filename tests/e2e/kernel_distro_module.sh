# graft kernel build --debian-source on a module Debian ships: graft fetches
# the kernel's own net/netfilter sources (linux-source, same version as the
# image) for a fix to nft_payload.c (tests/kernel/nft-payload-zero-length.patch),
# finds that the file belongs to nf_tables, compiles it before and after the
# fix with the headers' kbuild, and checks (run-pre) that the rebuilt
# original is the code of Debian's signed /lib/modules/.../nf_tables.ko.
# In QEMU the patch is loaded before nf_tables: the kernel applies it (and
# its livepatch relocation into nf_tables) when Debian's module is loaded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../kernel/qemu.sh"
kernel_pick
step "graft kernel build --debian-source (module nf_tables)"
export GRAFT_CACHE=${GRAFT_CACHE:-/var/cache/graft-tests}
"$GRAFT" kernel build --debian-source --diff "$(dirname "$0")/../kernel/nft-payload-zero-length.patch" \
  --kernel-release "$KVER" --cve CVE-2099-4747 -o "$W/livepatch_nft.ko" --json >"$W/build.json" 2>"$W/progress" ||
  fail "build failed: $(cat "$W/progress")"
grep -q "run-pre: checking the original objects against /lib/modules/$KVER/kernel/net/netfilter/nf_tables.ko" \
  "$W/progress" || fail "no run-pre against the installed module: $(cat "$W/progress")"
python3 - "$W/build.json" <<'PY' || fail "build summary: $(cat "$W/build.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["object"] == "nf_tables" and s["replaced"] == ["nft_payload_init"], s
assert s["klp_symbols"] == [".klp.sym.nf_tables.nft_parse_register_store,0"], s
PY
# A fix to a header is refused: every file including it would change.
printf -- '--- a/net/netfilter/nf_internals.h\n+++ b/net/netfilter/nf_internals.h\n@@ -1,1 +1,1 @@\n-x\n+y\n' >"$W/header.patch"
kernel_source_tree
if "$GRAFT" kernel build -q --source "$KSRC" --diff "$W/header.patch" --kernel-release "$KVER" -o "$W/x.ko" 2>"$W/err"; then
  fail "a header fix was built"
fi
grep -q "only .c files can be rebuilt" "$W/err" || fail "header refusal: $(cat "$W/err")"

step "guest"
mkdir -p "$W/root/modules"
cp "$W/livepatch_nft.ko" "$W/root/modules/"
nf_tables_modules "$W/root/modules"
guest_init "$W/root" <<'SH'
M=/modules
run load graft kernel load $M/livepatch_nft.ko
run status0 graft kernel status --json
run deps sh -c "insmod $M/crc32c_generic.ko && insmod $M/libcrc32c.ko && insmod $M/nfnetlink.ko"
run nf_tables insmod $M/nf_tables.ko
run status1 graft kernel status --json
run unload graft kernel unload livepatch_nft
run modules cat /proc/modules
run dmesg dmesg
SH
initramfs_make "$W/root" "$W/initrd.gz"
qemu_boot "$W/initrd.gz" "$W/console" 300

step "check"
guest_check "$W/console.txt" <<'PY'
assert "loaded livepatch_nft (CVE-2099-4747)" in ok("load")
# nf_tables is not loaded yet: the patch waits for it.
o = js("status0")["patches"][0]["objects"][0]
assert o["name"] == "nf_tables" and not o["patched"], o
ok("deps")
ok("nf_tables")
o = js("status1")["patches"][0]["objects"][0]
assert o["patched"] and o["functions"] == [{"name": "nft_payload_init", "sympos": 1}], o
assert "unloaded livepatch_nft" in ok("unload")
assert "nf_tables " in ok("modules") and "livepatch_nft" not in ok("modules")
d = ok("dmesg")
assert "livepatch: applying patch 'livepatch_nft' to loading module 'nf_tables'" in d, d
assert "Oops" not in d and "BUG" not in d, d
print("guest checks passed")
PY
echo PASS

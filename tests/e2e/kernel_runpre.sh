# Same-named statics of vmlinux and run-pre against the boot image. Debian
# 6.1 has three static c_start in vmlinux, in kallsyms order those of
# arch/x86/kernel/cpu/proc.c (/proc/cpuinfo), fs/proc/consoles.c
# (/proc/consoles) and crypto/proc.c (/proc/crypto): two files share the
# basename proc.c, so neither System.map nor the file name alone says which
# is which. Fixes to the consoles and crypto ones (a marker line printed
# first) are built from the image's own sources with --source; graft finds
# sympos 2 and 3 — from the code in /boot/vmlinuz (decompressed) alone, and
# again from linux-image-R-dbg's vmlinux (file names, sizes) when fetched —
# and the guest shows each marker in its own file only. A fix built from
# the sources of another Debian kernel (6.1.176) for this image is refused
# by run-pre, naming the function. And a module fix whose function uses
# string literals passes run-pre against Debian's own nft_compat.ko, whose
# linker merged them into one .rodata.str1.1 (one line changed, so that no
# __LINE__ moves).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../kernel/qemu.sh"
kernel_pick
FIXES=$(cd "$(dirname "$0")/../kernel" && pwd)
step "sources of $KVER"
kernel_source_tree
kernel_kallsyms "$W/kallsyms"

build_fix() {  # build_fix NAME PATCH [graft options...]: $W/NAME.ko, $W/NAME.json
  local name=$1 patch=$2; shift 2
  "$GRAFT" kernel build -q --system-map "$W/kallsyms" --source "$KSRC" --diff "$patch" \
    --kernel-release "$KVER" -o "$W/$name.ko" --json "$@" >"$W/$name.json" 2>"$W/$name.err" ||
    fail "building $name: $(cat "$W/$name.err")"
}
expect_sympos() {  # expect_sympos NAME WANT
  python3 - "$W/$1.json" "$2" <<'PY' || fail "$1: $(cat "$W/$1.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["replaced"] == [sys.argv[2]], s["replaced"]
assert "vmlinuz" in s["run_pre"], s["run_pre"]
PY
}

step "sympos from the image's code (no symbols with file names)"
start_s=$SECONDS
build_fix crypto_marker "$FIXES/crypto-proc-marker.patch"
echo "  crypto/proc.c c_start: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["replaced"])' "$W/crypto_marker.json") in $((SECONDS - start_s)) s"
expect_sympos crypto_marker "c_start,3"
build_fix consoles_marker "$FIXES/consoles-marker.patch"
expect_sympos consoles_marker "c_start,2"

if [ -z "${GRAFT_TEST_SKIP_DBG:-}" ]; then
  step "sympos from linux-image-$KVER-dbg's vmlinux (860 MB, fetched once)"
  start_s=$SECONDS
  build_fix crypto_dbg "$FIXES/crypto-proc-marker.patch" --fetch-vmlinux
  echo "  $((SECONDS - start_s)) s (download and extraction the first time)"
  expect_sympos crypto_dbg "c_start,3"
fi

step "run-pre refuses objects of another kernel (6.1.176 sources, $KVER image)"
cache=${GRAFT_CACHE:-/var/cache/graft-tests}/kernel
old=$cache/linux-source-6.1_6.1.176-1_all.deb
[ -f "$old" ] || (cd "$cache" && apt-get download -q "linux-source-6.1=6.1.176-1" >/dev/null 2>&1) ||
  fail "cannot download linux-source-6.1=6.1.176-1"
# A tree whose top Makefile says 6.1.192 (graft's version check passes) but
# whose fs/proc is 6.1.176's: only run-pre can tell.
mkdir -p "$W/old176" "$W/old/fs"
dpkg-deb --fsys-tarfile "$old" | tar -xO ./usr/src/linux-source-6.1.tar.xz |
  tar -xJ -C "$W/old176" --strip-components=1 linux-source-6.1/fs/proc || fail "extracting 6.1.176's fs/proc"
for e in "$KSRC"/* "$KSRC"/.[!.]*; do [ "$(basename "$e")" = fs ] || ln -s "$e" "$W/old/$(basename "$e")"; done
for e in "$KSRC"/fs/*; do [ "$(basename "$e")" = proc ] || ln -s "$e" "$W/old/fs/$(basename "$e")"; done
cp -r "$W/old176/fs/proc" "$W/old/fs/proc"
if "$GRAFT" kernel build -q --system-map "$W/kallsyms" --source "$W/old" --diff "$FIXES/proc-register-namelen.patch" \
   --kernel-release "$KVER" -o "$W/old.ko" 2>"$W/old.err"; then
  fail "built a patch from 6.1.176's sources for $KVER"
fi
grep -q "run-pre: function 'proc_register' is not the code of the running kernel at 0x" "$W/old.err" ||
  fail "refusal: $(cat "$W/old.err")"
echo "  $(head -c 300 "$W/old.err")"
build_fix proc_register "$FIXES/proc-register-namelen.patch"  # the same fix from the image's own sources

step "run-pre through the merged strings of Debian's nft_compat.ko"
"$GRAFT" kernel build -q --source "$KSRC" --diff "$FIXES/nft-compat-target-size.patch" --kernel-release "$KVER" \
  -o "$W/nft_compat_fix.ko" --json >"$W/nft.json" 2>"$W/nft.err" || fail "nft_compat: $(cat "$W/nft.err")"
python3 - "$W/nft.json" <<'PY' || fail "nft_compat: $(cat "$W/nft.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["object"] == "nft_compat" and s["replaced"] == ["nft_target_init"], s
assert s["run_pre"].endswith("/nft_compat.ko"), s["run_pre"]
PY

step "guest"
mkdir -p "$W/root/modules"
cp "$W/crypto_marker.ko" "$W/consoles_marker.ko" "$W/root/modules/"
guest_init "$W/root" <<'SH'
run crypto0 head -1 /proc/crypto
run load1 graft kernel load /modules/crypto_marker.ko
run load2 graft kernel load /modules/consoles_marker.ko
run crypto1 head -1 /proc/crypto
run consoles1 head -1 /proc/consoles
run cpuinfo1 head -1 /proc/cpuinfo
run status graft kernel status --json
run unload1 graft kernel unload consoles_marker
run unload2 graft kernel unload crypto_marker
run crypto2 head -1 /proc/crypto
run dmesg dmesg
SH
initramfs_make "$W/root" "$W/initrd.gz"
qemu_boot "$W/initrd.gz" "$W/console" 300

step "check"
guest_check "$W/console.txt" <<'PY'
assert "graft:" not in ok("crypto0"), ok("crypto0")
assert "loaded crypto_marker" in ok("load1") and "loaded consoles_marker" in ok("load2")
assert ok("crypto1").strip() == "graft: crypto/proc.c c_start patched", ok("crypto1")
assert ok("consoles1").strip() == "graft: fs/proc/consoles.c c_start patched", ok("consoles1")
assert "graft:" not in ok("cpuinfo1"), ok("cpuinfo1")  # sympos 1 untouched
fns = {p["id"]: p["objects"][0]["functions"] for p in json.loads(ok("status"))["patches"]}
assert fns["crypto_marker"] == [{"name": "c_start", "sympos": 3}], fns
assert fns["consoles_marker"] == [{"name": "c_start", "sympos": 2}], fns
assert "graft:" not in ok("crypto2"), ok("crypto2")
assert "Oops" not in ok("dmesg") and "BUG" not in ok("dmesg"), ok("dmesg")
print("guest checks passed")
PY
echo PASS

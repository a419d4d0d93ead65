# Helpers for tests that need a real kernel with live patching: Debian 12's
# own kernel image booted in QEMU (TCG; no KVM needed) from an initramfs
# holding busybox, graft with its shared libraries, and the test's files.
# Needs qemu-system-x86, linux-image-amd64, linux-headers-amd64 and
# busybox-static (scripts/install-deps.sh installs them).

# kernel_pick [RELEASE]: sets KVER to RELEASE (or $GRAFT_TEST_KERNEL), else
# to the newest kernel with both an image in /boot and headers in /usr/src;
# KIMAGE to its image.
kernel_pick() {
  KVER=""
  local img v want=${1:-${GRAFT_TEST_KERNEL:-}}
  if [ -n "$want" ]; then
    [ -f "/boot/vmlinuz-$want" ] && [ -f "/usr/src/linux-headers-$want/Makefile" ] ||
      fail "kernel $want needs /boot/vmlinuz-$want and /usr/src/linux-headers-$want: install linux-image-$want and linux-headers-$want"
    KVER=$want KIMAGE=/boot/vmlinuz-$want
  fi
  for img in $(ls -v /boot/vmlinuz-* 2>/dev/null); do
    [ -z "$want" ] || break
    v=${img#/boot/vmlinuz-}
    [ -f "/usr/src/linux-headers-$v/Makefile" ] && KVER=$v KIMAGE=$img
  done
  [ -n "$KVER" ] || fail "no kernel with headers: install linux-image-amd64 and linux-headers-amd64"
  command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing: install qemu-system-x86"
  [ -x /bin/busybox ] || fail "/bin/busybox missing: install busybox-static"
}

# fixtures_build DIR [KCFLAGS]: builds tests/kernel/fixture's modules for
# $KVER into DIR (KCFLAGS=-DFIXED: the fixed variants).
fixtures_build() {
  local dir=$1 kcflags=${2:-}
  mkdir -p "$dir"
  cp -r "$(dirname "${BASH_SOURCE[0]}")/fixture/." "$dir/"
  # MODPOST_WARN: some variants reference vmlinux symbols no module may use;
  # only their objects matter (graft diffs them), never their .ko files.
  make -s -C "/usr/src/linux-headers-$KVER" M="$dir" KCFLAGS="$kcflags" KBUILD_MODPOST_WARN=1 modules \
    >"$dir/build.log" 2>&1 ||
    fail "building the fixture modules failed: $(tail -20 "$dir/build.log")"
}

# notes_build DIR [PATCH]: tests/kernel/author_fixture (a module with a live
# note) with PATCH of it applied, compiled by $KVER's headers' kbuild with
# graft's <graft/livepatch.h> on the include path ($INC: `graft kernel header --dir`).
notes_build() {
  local dir=$1 patch=${2:-} fix
  fix=$(cd "$(dirname "${BASH_SOURCE[0]}")/author_fixture" && pwd)
  mkdir -p "$dir" && cp "$fix/Kbuild" "$fix/graft_fixture_notes.c" "$dir/"
  [ -z "$patch" ] || patch -s -p1 -d "$dir" <"$fix/$patch" || fail "applying $patch"
  make -s -C "/usr/src/linux-headers-$KVER" M="$dir" KCFLAGS="${INC:?}" modules >"$dir/build.log" 2>&1 ||
    fail "building $dir: $(tail -20 "$dir/build.log")"
}

# initramfs_make ROOT OUT: packs ROOT (which must hold /init) with busybox
# and graft (debug info stripped) plus every library graft loads.
initramfs_make() {
  local root=$1 out=$2 lib
  mkdir -p "$root"/{bin,proc,sys,dev,tmp,var/lib,etc}
  cp /bin/busybox "$root/bin/busybox"
  objcopy --strip-debug "$GRAFT" "$root/bin/graft"
  for lib in $(ldd "$GRAFT" | grep -oE '/[^ ]+'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  (cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$out"
}

# guest_init ROOT: writes ROOT/init from standard input, between a prelude
# (busybox, /proc, /sys and /dev mounted, and `run NAME CMD...`, which
# prints the command's output and exit status between markers that
# tests/kernel/guest_log.py reads) and an epilogue ("@@done", power off).
guest_init() {
  {
    cat <<'SH'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
export PATH=/bin HOME=/root
# Test modules are built unsigned; tests of signatures unset this per command.
export GRAFT_ALLOW_UNSIGNED=1
run() { n=$1; shift; echo "@@begin $n"; "$@" 2>&1; echo "@@end $n rc=$?"; }
SH
    cat
    printf 'echo "@@done"\npoweroff -f\n'
  } >"$1/init"
  chmod +x "$1/init"
}

# guest_check LOG: fails unless the guest finished; then runs the Python
# checks on standard input with `g` (a GuestLog) and ok/refused/js defined.
guest_check() {
  local log=$1
  grep -q '^@@done' "$log" || fail "the guest did not finish: $(tail -30 "$log")"
  { printf 'import json, re, sys\nsys.path.insert(0, %s)\nfrom guest_log import GuestLog\n' \
      "'$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)'"
    printf 'g = GuestLog(%s)\nok, refused, js = g.ok, g.refused, g.js\n' "'$log'"
    cat; } >"$W/check.py"
  python3 "$W/check.py" || fail "guest results: $(cat "$log")"
}

# qemu_boot INITRD LOG [SECONDS]: boots $KIMAGE with INITRD, console to LOG;
# the guest's /init powers off when done. $QEMU_APPEND adds to the kernel
# command line, $QEMU_OPTS to QEMU's (firmware drives, ...).
qemu_boot() {
  local initrd=$1 log=$2 secs=${3:-300}
  # -cpu max: SMAP and SMEP on, so user-memory access without the
  # alternatives' stac/clac faults as on real hardware.
  timeout "$secs" qemu-system-x86_64 -cpu max -m 1024 -smp 2 -nographic -no-reboot -nodefaults -serial stdio \
    ${QEMU_OPTS:-} -kernel "$KIMAGE" -initrd "$initrd" \
    -append "console=ttyS0 loglevel=1 panic=-1 oops=panic ${QEMU_APPEND:-}" >"$log" 2>&1 ||
    fail "qemu did not finish (rc $?): $(tail -20 "$log")"
  tr -d '\r' <"$log" >"$log.txt"
}

# kernel_source_tree: sets KSRC to the running test kernel's whole source
# tree (Debian's linux-source-X.Y of the same version as the kernel image,
# Debian patches applied), extracted once into $GRAFT_CACHE/kernel exactly
# where and how `graft kernel build --debian-source` keeps it, so both share
# one copy. Read-only: graft applies fixes to overlays.
kernel_source_tree() {
  local ver series cache deb
  ver=$(dpkg-query -W -f '${Version}' "linux-image-$KVER")
  series=$(echo "$KVER" | cut -d. -f1,2)
  cache=${GRAFT_CACHE:-/var/cache/graft-tests}/kernel
  deb=$cache/linux-source-${series}_${ver}_all.deb
  KSRC=$cache/linux-source-$ver
  mkdir -p "$cache"
  [ -f "$KSRC/.graft-complete" ] && return 0
  if [ ! -f "$deb" ]; then
    (cd "$cache" && apt-get download -q "linux-source-$series=$ver" >/dev/null 2>&1) ||
      fail "cannot download linux-source-$series=$ver (the sources of kernel $KVER)"
  fi
  rm -rf "$KSRC.partial.$$" && mkdir -p "$KSRC.partial.$$"
  dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/linux-source-$series.tar.xz" |
    tar -xJ -C "$KSRC.partial.$$" --strip-components=1 --exclude="linux-source-$series/Documentation" ||
    fail "extracting linux-source-$series=$ver failed"
  echo "$ver" >"$KSRC.partial.$$/.graft-complete"
  rm -rf "$KSRC" && mv "$KSRC.partial.$$" "$KSRC"
}

# nf_tables_modules DEST: Debian's nf_tables.ko and the modules it needs,
# for guests that load it (insmod in this order: crc32c_generic, libcrc32c,
# nfnetlink, nf_tables).
nf_tables_modules() {
  local m
  for m in kernel/crypto/crc32c_generic.ko kernel/lib/libcrc32c.ko kernel/net/netfilter/nfnetlink.ko \
           kernel/net/netfilter/nf_tables.ko; do
    cp "/lib/modules/$KVER/$m" "$1/" || fail "no $m for $KVER"
  done
}

# kernel_kallsyms OUT: /proc/kallsyms of $KVER as it runs (Debian's
# /boot/System.map is a placeholder), read once from a QEMU guest and
# cached in $GRAFT_CACHE. graft kernel build takes it as --system-map.
kernel_kallsyms() {
  local out=$1 cache=${GRAFT_CACHE:-/var/cache/graft-tests}/kernel
  local ver
  ver=$(dpkg-query -W -f '${Version}' "linux-image-$KVER")
  local cached=$cache/kallsyms-$KVER-$ver
  if [ ! -s "$cached" ]; then
    local root=$W/kallsyms-root
    mkdir -p "$root" "$cache"
    cat >"$root/init" <<'SH'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
echo "@@kallsyms-begin"
gzip -c /proc/kallsyms | base64
echo "@@kallsyms-end"
poweroff -f
SH
    chmod +x "$root/init"
    initramfs_make "$root" "$W/kallsyms.gz"
    qemu_boot "$W/kallsyms.gz" "$W/kallsyms.console" 300
    sed -n '/@@kallsyms-begin/,/^@@kallsyms-end/p' "$W/kallsyms.console.txt" | sed '1d;$d' |
      base64 -d | gunzip >"$cached.tmp" || fail "reading /proc/kallsyms from the guest failed"
    mv "$cached.tmp" "$cached"
  fi
  cp "$cached" "$out"
}

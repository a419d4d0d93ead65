#!/usr/bin/env bash
# The kernel demo: installs what graft needs (Debian's kernel image and
# headers, QEMU), builds graft, turns a fix to Debian 12's own kernel source
# (tests/kernel/cmdline-hide-secrets.patch: credentials on the kernel
# command line are shown as *** in /proc/cmdline) into a live patch with
# `graft kernel build --debian-source`, then boots Debian's kernel in QEMU
# with a password on its command line and, inside, loads the patch, shows
# /proc/cmdline, graft kernel status and graft scan, and unloads it again.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/demo-setup.sh
export GRAFT GRAFT_CACHE=${GRAFT_CACHE:-$PWD/build/source-cache}
. tests/e2e/lib.sh
. tests/kernel/qemu.sh
kernel_pick
FIX=tests/kernel/cmdline-hide-secrets.patch

say "the kernel's symbols (Debian's System.map is a placeholder): /proc/kallsyms, read once from a QEMU guest"
kernel_kallsyms "$W/kallsyms"

say "graft kernel build --debian-source --diff $FIX (kernel $KVER)"
"$GRAFT" kernel build --debian-source --diff "$FIX" --kernel-release "$KVER" --system-map "$W/kallsyms" \
  --cve CVE-2099-4646 --description "proc: hide credentials in /proc/cmdline" -o "$W/livepatch_cmdline.ko"
"$GRAFT" kernel info "$W/livepatch_cmdline.ko" | head -4

say "an advisory for the kernel package, so graft scan has something to report"
read -r VER SRC SRCVER < <(dpkg-query -W -f '${Version} ${source:Package} ${source:Version}\n' "linux-image-$KVER")
mkdir -p "$W/root/modules"
echo "linux-image-$KVER $VER amd64 $SRC $SRCVER" >"$W/root/packages"
cat >"$W/dsa.json" <<JSON
[{"id": "DSA-DEMO-1", "published": "2099-01-01T00:00:00Z", "modified": "2099-01-01T00:00:00Z",
  "summary": "linux - security update (demo)", "aliases": ["CVE-2099-4646"],
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N"}],
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "$SRC"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "$SRCVER.1"}]}]}]}]
JSON
"$GRAFT" advisories --db "$W/root/adv.db" import -q "$W/dsa.json"
say "graft sign the module; the guest trusts the key (/etc/graft/keys)"
"$GRAFT" keygen demo-kernel --dir "$W/keys" >/dev/null
"$GRAFT" sign "$W/livepatch_cmdline.ko" --key "$W/keys/demo-kernel.key"
mkdir -p "$W/root/etc/graft/keys" && cp "$W/keys/demo-kernel.pub" "$W/root/etc/graft/keys/"
cp "$W/livepatch_cmdline.ko" "$W/livepatch_cmdline.ko.sig" "$W/root/modules/"

say "booting Debian's kernel $KVER in QEMU with graft.db_password=hunter2 on its command line"
guest_init "$W/root" <<'SH'
scan() { graft scan --db /adv.db --packages /packages --ecosystem deb --release Debian:12 --kernel-release "$(uname -r)"; }
echo "--- /proc/cmdline before:"; cat /proc/cmdline
echo "--- graft scan before:"; scan
echo "--- graft kernel load:"; graft kernel load /modules/livepatch_cmdline.ko
echo "--- /proc/cmdline with the live patch:"; cat /proc/cmdline
echo "--- graft kernel status:"; graft kernel status
echo "--- graft scan with the live patch:"; scan
echo "--- graft kernel unload:"; graft kernel unload livepatch_cmdline
echo "--- /proc/cmdline after:"; cat /proc/cmdline
SH
initramfs_make "$W/root" "$W/initrd.gz"
QEMU_APPEND="graft.db_password=hunter2" qemu_boot "$W/initrd.gz" "$W/console" 300
# The guest's first line follows the firmware's terminal escapes: start at its text.
sed -n '/--- \/proc\/cmdline before/,/^@@done/{/^@@done/d;s/.*\(--- \/proc\/cmdline before\)/\1/;p}' "$W/console.txt"
grep -q 'graft.db_password=\*\*\*' "$W/console.txt" || { echo "demo: the live patch did not take effect" >&2; exit 1; }
say "kernel demo finished: the running kernel was patched and unpatched, and never rebooted"

#!/usr/bin/env bash
# Times `graft kernel build` with hyperfine on the real cases of the tests:
# from objects compiled beforehand, a module fix (tests/kernel/fixture,
# off-by-one) and a vmlinux fix (Debian's fs/proc/cmdline.c +
# tests/kernel/cmdline-hide-secrets.patch): each run diffs, writes the new
# code, links the module with kbuild and rewrites its livepatch relocations;
# and from source (--source/--diff), which also compiles the changed file
# before and after the fix: the same vmlinux fix, and a fix to Debian's
# nf_tables module (tests/kernel/nft-payload-zero-length.patch).
# Usage: GRAFT=build/graft bash bench/kernel_build.sh   (root; as the tests)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GRAFT=${GRAFT:-$here/../build/graft}
. "$here/../tests/e2e/lib.sh"
. "$here/../tests/kernel/qemu.sh"
kernel_pick
fixtures_build "$W/orig"
fixtures_build "$W/fixed" -DFIXED
kernel_source_files "$W/korig" fs/proc/cmdline.c
kernel_source_files "$W/src" fs/proc net/netfilter
cp -r "$W/korig" "$W/kfixed"
patch -s -d "$W/kfixed" -p1 <"$here/../tests/kernel/cmdline-hide-secrets.patch"
for t in korig kfixed; do
  printf 'ccflags-y += -ffunction-sections -fdata-sections\nobj-y += cmdline.o\n' >"$W/$t/fs/proc/Kbuild"
  make -s -C "/usr/src/linux-headers-$KVER" M="$W/$t/fs/proc" cmdline.o
done
kernel_kallsyms "$W/kallsyms"
hyperfine --warmup 1 --runs 10 --export-markdown "$W/kbuild.md" \
  -n "module fix (graft_fixture_target)" \
  "$GRAFT kernel build -q --object graft_fixture_target --target-module $W/orig/graft_fixture_target.ko --orig $W/orig/graft_fixture_target.o --patched $W/fixed/graft_fixture_target.o -o $W/lp_state.ko" \
  -n "vmlinux fix (fs/proc/cmdline.c)" \
  "$GRAFT kernel build -q --kernel-release $KVER --system-map $W/kallsyms --orig $W/korig/fs/proc/cmdline.o --patched $W/kfixed/fs/proc/cmdline.o -o $W/livepatch_cmdline.ko" \
  -n "from source: vmlinux fix (compiles cmdline.c twice)" \
  "$GRAFT kernel build -q --kernel-release $KVER --system-map $W/kallsyms --source $W/src --diff $here/../tests/kernel/cmdline-hide-secrets.patch -o $W/lp_src.ko" \
  -n "from source: nf_tables fix (compiles nft_payload.c twice, run-pre on Debian's module)" \
  "$GRAFT kernel build -q --kernel-release $KVER --source $W/src --diff $here/../tests/kernel/nft-payload-zero-length.patch -o $W/lp_nft.ko"
cat "$W/kbuild.md"

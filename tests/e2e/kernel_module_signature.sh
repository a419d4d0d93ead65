# Kernels that enforce module signatures: Debian 12's kernel booted in QEMU
# under UEFI firmware (OVMF) with module.sig_enforce=1. A live patch module is
# signed for the kernel (graft kernel sign-module: the kernel's sign-file,
# a key made here with openssl like a MOK) and then by graft (graft sign,
# which covers the kernel's signature). First boot: the unsigned module and
# the one signed by a key the kernel does not trust are refused by the
# kernel, and graft says which and what to do; graft kernel info shows the
# signer. The guest then enrols the certificate in the firmware's db (the
# firmware is in setup mode, no Secure Boot), so on the second boot the
# kernel holds it in its .platform keyring, as it does for shim's MOKs on a
# Secure Boot host: the signed module loads under enforcement, while the
# unsigned one and a signed one changed afterwards are still refused. A third
# boot under lockdown=integrity (what Secure Boot sets) instead of
# sig_enforce: the kernel answers EPERM, graft still says which case it is.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../kernel/qemu.sh"
kernel_pick
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
[ -f "$OVMF_CODE" ] || fail "$OVMF_CODE missing: install ovmf"
export KVER W
step "fixture module for $KVER, keys"
fixtures_build "$W/mod"
M=$W/root/modules
mkdir -p "$M" "$W/root/keys"
openssl req -new -x509 -newkey rsa:2048 -keyout "$W/MOK.priv" -outform DER -out "$W/MOK.der" -days 36500 \
  -subj "/CN=graft e2e MOK/" -nodes >/dev/null 2>&1
"$GRAFT" keygen e2e --dir "$W/signer" >/dev/null
cp "$W/signer/e2e.pub" "$W/root/keys/"
export GRAFT_KEYS_DIR=$W/root/keys

step "sign: kernel signature first, graft's over it"
cp "$W/mod/graft_fixture_lp.ko" "$M/lp_unsigned.ko"
"$GRAFT" sign "$M/lp_unsigned.ko" --key "$W/signer/e2e.key" >/dev/null
cp "$W/mod/graft_fixture_lp.ko" "$M/lp_ksigned.ko"
"$GRAFT" kernel sign-module "$M/lp_ksigned.ko" --key "$W/MOK.priv" --cert "$W/MOK.der" >"$W/out"
grep -q "signed $M/lp_ksigned.ko for the kernel: signer 'graft e2e MOK', key id [0-9A-F:]*, sha256" "$W/out" ||
  fail "sign-module: $(cat "$W/out")"
"$GRAFT" sign "$M/lp_ksigned.ko" --key "$W/signer/e2e.key" >/dev/null
"$GRAFT" verify "$M/lp_ksigned.ko" >/dev/null || fail "graft's signature does not verify over the kernel-signed module"
"$GRAFT" kernel info "$M/lp_ksigned.ko" --json >"$W/info.json" 2>"$W/err" || fail "info: $(cat "$W/err")"
python3 - "$W/info.json" "$(modinfo -F signer "$M/lp_ksigned.ko")" "$(modinfo -F sig_key "$M/lp_ksigned.ko")" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["kernel_signature"]
assert s["signer"] == sys.argv[2] == "graft e2e MOK" and s["key_id"] == sys.argv[3], (s, sys.argv)
assert s["hash_algo"] == "sha256", s
PY
# The other order: graft's signature made first no longer matches.
cp "$W/mod/graft_fixture_lp.ko" "$M/lp_wrongorder.ko"
"$GRAFT" sign "$M/lp_wrongorder.ko" --key "$W/signer/e2e.key" >/dev/null
"$GRAFT" kernel sign-module "$M/lp_wrongorder.ko" --key "$W/MOK.priv" --cert "$W/MOK.der" >"$W/out"
grep -q "lp_wrongorder.ko.sig was made before and no longer matches" "$W/out" || fail "no note: $(cat "$W/out")"
if "$GRAFT" verify "$M/lp_wrongorder.ko" 2>/dev/null; then fail "graft's .sig verified after the kernel signing"; fi
# Signed for the kernel, then changed (graft's signature made after the change).
python3 - "$M/lp_ksigned.ko" "$M/lp_tampered.ko" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
assert d.count(b"patched cmdline_proc_show") == 1
open(sys.argv[2], "wb").write(d.replace(b"patched cmdline_proc_show", b"PATCHED cmdline_proc_show"))
PY
"$GRAFT" sign "$M/lp_tampered.ko" --key "$W/signer/e2e.key" >/dev/null
# Signed by a key that is never enrolled.
openssl req -new -x509 -newkey rsa:2048 -keyout "$W/other.priv" -outform DER -out "$W/other.der" -days 36500 \
  -subj "/CN=graft e2e other key/" -nodes >/dev/null 2>&1
cp "$W/mod/graft_fixture_lp.ko" "$M/lp_other.ko"
"$GRAFT" kernel sign-module "$M/lp_other.ko" --key "$W/other.priv" --cert "$W/other.der" >/dev/null
"$GRAFT" sign "$M/lp_other.ko" --key "$W/signer/e2e.key" >/dev/null

# graft kernel build signs what it builds when given the key.
fixtures_build "$W/fixed" -DFIXED
"$GRAFT" kernel build --orig "$W/mod/graft_fixture_target.o" --patched "$W/fixed/graft_fixture_target.o" \
  --object graft_fixture_target --target-module "$W/mod/graft_fixture_target.ko" -q -o "$W/lp_built.ko" \
  --module-sign-key "$W/MOK.priv" --module-sign-cert "$W/MOK.der" --module-sign-hash sha512 --json >"$W/build.json" ||
  fail "build failed: $(cat "$W/build.json")"
python3 - "$W/build.json" "$(modinfo -F sig_key "$W/lp_built.ko")" "$(modinfo -F sig_hashalgo "$W/lp_built.ko")" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["kernel_signature"]
assert s["signer"] == "graft e2e MOK" and s["key_id"] == sys.argv[2] and s["hash_algo"] == sys.argv[3] == "sha512", s
PY

# The db entry the guest writes through efivarfs: attributes, an
# EFI_VARIABLE_AUTHENTICATION_2 with no signature (accepted in setup mode),
# and a signature list holding the certificate.
python3 - "$W/MOK.der" "$W/root/db.var" <<'PY'
import struct, sys, uuid
cert = open(sys.argv[1], "rb").read()
guid = lambda s: uuid.UUID(s).bytes_le
esl = guid("a5c059a1-94e4-4aa7-87b5-ab155c2bf072")  # EFI_CERT_X509_GUID
esl += struct.pack("<III", 28 + 16 + len(cert), 0, 16 + len(cert))
esl += guid("9a7c6e6b-0f4c-4f5a-8d0a-6772616674e2") + cert  # owner, certificate
stamp = struct.pack("<HBBBBBBIhBB", 2026, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0)
auth = stamp + struct.pack("<IHH", 24, 0x0200, 0x0EF1) + guid("4aafd29d-68df-49ee-8aa9-347d375665a7")
open(sys.argv[2], "wb").write(struct.pack("<I", 0x27) + auth + esl)  # NV|BS|RT|TIME_BASED_AUTH
PY
cp "/lib/modules/$KVER/kernel/fs/efivarfs/efivarfs.ko" "$W/root/"

step "guest: two boots with module.sig_enforce=1, one under lockdown"
guest_init "$W/root" <<'SH'
unset GRAFT_ALLOW_UNSIGNED
export GRAFT_KEYS_DIR=/keys
M=/modules
if grep -q graft_phase=3 /proc/cmdline; then
  # As systemd does: /sys/kernel/security/lockdown tells the mode.
  mount -t securityfs securityfs /sys/kernel/security
  run lockdown cat /sys/kernel/security/lockdown
  run load_unsigned3 graft kernel load $M/lp_unsigned.ko
  run load_other3 graft kernel load $M/lp_other.ko
  run load_ksigned3 graft kernel load $M/lp_ksigned.ko
elif ! grep -q graft_phase=2 /proc/cmdline; then
  run enforce cat /sys/module/module/parameters/sig_enforce
  run info_unsigned graft kernel info $M/lp_unsigned.ko
  run load_unsigned graft kernel load $M/lp_unsigned.ko
  run info_ksigned graft kernel info $M/lp_ksigned.ko
  run load_ksigned graft kernel load $M/lp_ksigned.ko
  run load_wrongorder graft kernel load $M/lp_wrongorder.ko
  insmod /efivarfs.ko
  mount -t efivarfs efivarfs /sys/firmware/efi/efivars
  run enrol dd if=/db.var of=/sys/firmware/efi/efivars/db-d719b2cb-3d3a-4596-a3bc-dad00e67656f bs=4096
else
  run platform_key sh -c "dmesg | grep 'integrity: Loaded X.509 cert'"
  run load_unsigned2 graft kernel load $M/lp_unsigned.ko
  run load_tampered graft kernel load $M/lp_tampered.ko
  run load_ksigned2 graft kernel load $M/lp_ksigned.ko
  run cmdline cat /proc/cmdline
  run status graft kernel status --json
  run unload graft kernel unload graft_fixture_lp
fi
SH
initramfs_make "$W/root" "$W/initrd.gz"
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$W/vars.fd"
QEMU_OPTS="-drive if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE -drive if=pflash,format=raw,unit=1,file=$W/vars.fd"
QEMU_APPEND="module.sig_enforce=1" qemu_boot "$W/initrd.gz" "$W/console1" 400
QEMU_APPEND="module.sig_enforce=1 graft_phase=2" qemu_boot "$W/initrd.gz" "$W/console2" 400
QEMU_APPEND="lockdown=integrity graft_phase=3" qemu_boot "$W/initrd.gz" "$W/console3" 400

step "check"
guest_check "$W/console1.txt" <<'PY'
assert ok("enforce").strip() == "Y"
assert "kernel sig   none (this kernel enforces signatures: module.sig_enforce=1" in ok("info_unsigned"), ok("info_unsigned")
refused("load_unsigned", "carries no kernel module signature", "module.sig_enforce=1", "mokutil --import",
        "Kernel log: Loading of unsigned module is rejected")
assert re.search(r"kernel sig +signer 'graft e2e MOK', key id [0-9A-F:]+, sha256", ok("info_ksigned")), ok("info_ksigned")
refused("load_ksigned", "it is signed for the kernel by 'graft e2e MOK' (key id", "a key this kernel (module.sig_enforce=1) does not trust",
        "mokutil --import", "Loading of module with unavailable key is rejected")
refused("load_wrongorder", "changed")
assert "Loading of" not in g.runs["load_wrongorder"][0]  # refused by graft: the kernel never saw it
ok("enrol")
PY
guest_check "$W/console2.txt" <<'PY'
assert "Loaded X.509 cert 'graft e2e MOK" in ok("platform_key"), ok("platform_key")
refused("load_unsigned2", "carries no kernel module signature")
refused("load_tampered", "the kernel rejected its module signature by 'graft e2e MOK'", "changed after it was signed",
        "sign it again for the kernel")
assert "loaded graft_fixture_lp" in ok("load_ksigned2")
assert ok("cmdline").strip() == "graft-fixture: patched cmdline_proc_show"
p = js("status")["patches"][0]
assert p["id"] == "graft_fixture_lp" and p["state"] == "active", p
ok("unload")
PY
guest_check "$W/console3.txt" <<'PY'
assert "[integrity]" in ok("lockdown"), ok("lockdown")
refused("load_unsigned3", "it carries no kernel module signature", "this kernel (lockdown=integrity)",
        "Lockdown: graft: unsigned module loading is restricted")
refused("load_other3", "it is signed for the kernel by 'graft e2e other key'", "(lockdown=integrity) does not trust")
assert "loaded graft_fixture_lp" in ok("load_ksigned3")
PY
echo "PASS kernel_module_signature"

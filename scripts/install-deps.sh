#!/usr/bin/env bash
# Debian 12 packages graft builds and tests with (run as root). The kernel
# image, its headers, QEMU and busybox are for the kernel live patch tests,
# which boot Debian's own kernel in QEMU (tests/kernel/qemu.sh). lintian,
# mmdebstrap and systemd-nspawn check graft's own .deb and install it on a
# fresh Debian system booted with systemd (tests/e2e/deb_package.sh).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config git ca-certificates \
  libelf-dev libdw-dev libcapstone-dev libsodium-dev libcurl4-openssl-dev libsqlite3-dev zlib1g-dev liblzma-dev libbz2-dev \
  libcli11-dev nlohmann-json3-dev libfmt-dev libpugixml-dev libgtest-dev libbenchmark-dev libssl-dev \
  patch dpkg-dev debhelper dh-buildinfo gcc-11 libyaml-dev hyperfine util-linux procps \
  dnf createrepo-c rpm lintian mmdebstrap systemd-container \
  qemu-system-x86 ovmf linux-image-amd64 linux-headers-amd64 busybox-static cpio kmod openssl \
  linux-image-6.1.0-50-amd64 linux-headers-6.1.0-50-amd64 >/dev/null

#!/bin/bash
# Installs what building, running and testing Hearth needs, from Debian 12 packages.
# Usage: build-aux/install-deps.sh [build|run|test]   (test is a superset of the others)
set -euo pipefail
what=${1:-test}

build_pkgs=(meson ninja-build pkg-config gcc libc6-dev libglib2.0-dev libxml2-dev
            libgnutls28-dev gettext libjansson-dev)
run_pkgs=(qemu-system-x86 qemu-utils dnsmasq-base nftables iproute2 ovmf libvirt-clients)
test_pkgs=(python3 python3-libvirt python3-pytest libxml2-utils busybox-static cpio
           procps psmisc systemd clang-format
           python3-pycryptodome  # DES for the VNC authentication test
           gnutls-bin)           # certtool, for the TLS tests

pkgs=("${build_pkgs[@]}" "${run_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")
[ "$what" = build ] && pkgs=("${build_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing packages (${missing[*]}); run as root" >&2
        exit 1
    fi
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

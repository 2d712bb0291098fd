#!/bin/bash
# build-guest.sh [OUTDIR]: build the Hearth test guest (OUTDIR/vmlinuz, OUTDIR/initrd.gz) from
# Debian packages: the kernel linux-image-amd64 points at, and busybox-static.
# Idempotent: OUTDIR/stamp records the package versions and a hash of the guest files, and
# nothing is rebuilt while it matches. See README.md for what the guest does.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:-$HERE/cache}
SKEL=$HERE/initramfs
# Load order matters: each module's dependencies come before it (checked below).
MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk
         failover net_failover virtio_net)

log() { echo "build-guest: $*" >&2; }
die() { log "error: $*"; exit 1; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# One builder at a time per OUTDIR (tests may start several at once).
exec 9>"$OUT/.lock"
flock 9

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1
}

KPKG=$(kernel_package)
if [ -z "$KPKG" ]; then
    log "no package lists: apt-get update"
    as_root apt-get update -qq
    KPKG=$(kernel_package)
fi
[ -n "$KPKG" ] || die "cannot tell which linux-image-6.1.0-*-amd64 linux-image-amd64 depends on"
KVER=$(apt-cache show --no-all-versions "$KPKG" | sed -n 's/^Version: //p' | head -n1)
[ -n "$KVER" ] || die "no candidate version for $KPKG"

need=()
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
    need+=(busybox-static)
command -v cpio > /dev/null || need+=(cpio)
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    as_root apt-get install -y -qq "${need[@]}" > /dev/null
fi
BBVER=$(dpkg-query -W -f='${Version}' busybox-static)
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "$BUSYBOX is missing although busybox-static is installed"

SKELHASH=$( (cd "$SKEL" && find . -type f | LC_ALL=C sort | xargs sha256sum
             sha256sum < "$HERE/build-guest.sh") | sha256sum | cut -d' ' -f1)
STAMP="kernel=$KPKG $KVER
busybox=busybox-static $BBVER
files=$SKELHASH"

if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.gz" ] && [ -f "$OUT/stamp" ] &&
    [ "$(cat "$OUT/stamp")" = "$STAMP" ]; then
    log "up to date ($KPKG $KVER, busybox $BBVER) in $OUT"
    exit 0
fi

WORK=$(mktemp -d "$OUT/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# apt-get download drops privileges to _apt when it can; let it write here.
chmod 755 "$WORK"
chown _apt "$WORK" 2>/dev/null || true

log "downloading $KPKG=$KVER"
(cd "$WORK" && apt-get download -qq "$KPKG=$KVER" 2>&1 | grep -v 'unsandboxed' >&2 || true)
DEB=$(ls "$WORK"/"$KPKG"_*.deb 2>/dev/null | head -n1)
[ -n "$DEB" ] || die "apt-get download $KPKG=$KVER failed"

log "extracting the kernel and modules"
mkdir "$WORK/pkg"
dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$WORK/pkg" --wildcards './boot/*'
VMLINUZ=$(ls "$WORK"/pkg/boot/vmlinuz-* | head -n1)
CONFIG=$(ls "$WORK"/pkg/boot/config-* | head -n1)

# The power button reaches userspace as KEY_POWER on an input device: that needs the ACPI
# button driver and evdev, built in or as modules.
for opt in ACPI_BUTTON:button INPUT_EVDEV:evdev; do
    if grep -q "^CONFIG_${opt%:*}=m" "$CONFIG"; then
        MODULES+=("${opt#*:}")
    elif ! grep -q "^CONFIG_${opt%:*}=y" "$CONFIG"; then
        die "the kernel has no CONFIG_${opt%:*}: the guest could not see the power button"
    fi
done
patterns=()
for m in "${MODULES[@]}"; do patterns+=("./lib/modules/*/$m.ko"); done
dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$WORK/pkg" --wildcards "${patterns[@]}"
MODDIR=$(ls -d "$WORK"/pkg/lib/modules/*/kernel | head -n1)

ROOT=$WORK/root
cp -a "$SKEL" "$ROOT"
mkdir -p "$ROOT/lib/modules" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/run" "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
loaded=" "
for m in "${MODULES[@]}"; do
    ko=$(find "$MODDIR" -name "$m.ko" | head -n1)
    [ -n "$ko" ] || die "module $m.ko is not in $KPKG"
    deps=$(grep -a -o 'depends=[a-z0-9_,-]*' "$ko" | head -n1 | cut -d= -f2 | tr , ' ')
    for d in $deps; do
        case "$loaded" in *" $d "*) ;; *) die "module $m needs $d loaded before it" ;; esac
    done
    cp "$ko" "$ROOT/lib/modules/"
    loaded="$loaded$m "
done

printf '%s\n' "${MODULES[@]}" > "$ROOT/etc/modules"

log "packing the initramfs"
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --quiet) | gzip -9 -n > "$WORK/initrd.gz"
cp "$VMLINUZ" "$WORK/vmlinuz"

# Replace the outputs, then the stamp last: an interrupted build is never "up to date".
rm -f "$OUT/stamp"
mv -f "$WORK/vmlinuz" "$OUT/vmlinuz"
mv -f "$WORK/initrd.gz" "$OUT/initrd.gz"
printf '%s\n' "$STAMP" > "$OUT/stamp.tmp"
mv -f "$OUT/stamp.tmp" "$OUT/stamp"
log "built $OUT/vmlinuz and $OUT/initrd.gz ($KPKG $KVER, modules: ${MODULES[*]})"

#!/bin/bash
# Sets everything up, starts hearthd (built-in defaults, private state under $HEARTH_DEMO_ROOT)
# and walks through a demo with the stock virsh client. The daemon keeps running in the
# foreground afterwards, so you can point your own virsh at it; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD
root=${HEARTH_DEMO_ROOT:-/var/tmp/hearth-demo}

build-aux/install-deps.sh run
[ -d build ] || meson setup build
meson compile -C build
# A small Debian kernel + busybox guest (cached after the first build).
tests/guest/build-guest.sh "$top/tests/guest/cache"
guest=$top/tests/guest/cache

mkdir -p "$root"
uri="qemu+unix:///system?socket=$root/run/hearth/hearth-sock"
# Its own session: a Ctrl-C in this terminal reaches the script (which stops the guest first).
setsid "$top/build/daemon/hearthd" --root "$root" &
daemon=$!
# Guests outlive hearthd by design; the demo's own guest goes when the demo ends.
trap 'virsh -c "$uri" destroy demo-vm >/dev/null 2>&1; kill $daemon 2>/dev/null; wait $daemon 2>/dev/null' EXIT INT TERM
for _ in $(seq 100); do
    [ -S "$root/run/hearth/hearth-sock" ] && virsh -q -c "$uri" version >/dev/null 2>&1 && break
    sleep 0.05
done

run() { echo "\$ virsh $*"; virsh -c "$uri" "$@"; }
run version
run nodeinfo
cat > "$root/demo-vm.xml" <<XML
<domain type='qemu'>
  <name>demo-vm</name>
  <title>Hearth demo guest</title>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$guest/vmlinuz</kernel>
    <initrd>$guest/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$root/demo-vm.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'>
      <source path='$root/demo-vm.serial.log'/>
    </serial>
    <memballoon model='virtio'/>
  </devices>
</domain>
XML
if virsh -c "$uri" domstate demo-vm >/dev/null 2>&1; then
    virsh -c "$uri" destroy demo-vm >/dev/null 2>&1 || true
    run undefine demo-vm
fi
rm -f "$root/demo-vm.qcow2" "$root/demo-vm.serial.log"
qemu-img create -q -f qcow2 "$root/demo-vm.qcow2" 64M
run define "$root/demo-vm.xml"
run autostart demo-vm
run list --all
run start demo-vm
run list --all
echo "waiting for the guest to boot (TCG: a few seconds)..."
for _ in $(seq 300); do
    grep -q HEARTH-GUEST-READY "$root/demo-vm.serial.log" 2>/dev/null && break
    sleep 0.1
done
grep -m1 HEARTH-GUEST-READY "$root/demo-vm.serial.log" && echo "the guest is up"
run dominfo demo-vm
run dumpxml demo-vm
run suspend demo-vm
run domstate --reason demo-vm
run resume demo-vm
run shutdown demo-vm
for _ in $(seq 300); do
    [ "$(virsh -c "$uri" domstate demo-vm 2>/dev/null)" = "shut off" ] && break
    sleep 0.1
done
run domstate --reason demo-vm
run start demo-vm

echo
echo "hearthd is serving, with demo-vm running; try: virsh -c '$uri' list --all"
echo "(Ctrl-C stops the demo guest and the daemon; definitions stay in $root/etc/hearth/qemu)"
wait $daemon

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

mkdir -p "$root"
uri="qemu+unix:///system?socket=$root/run/hearth/hearth-sock"
"$top/build/daemon/hearthd" --root "$root" &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null' EXIT INT TERM
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
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$root/demo-vm.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='pty'/>
    <console type='pty'/>
  </devices>
</domain>
XML
virsh -c "$uri" domstate demo-vm >/dev/null 2>&1 && run undefine demo-vm
run define "$root/demo-vm.xml"
run autostart demo-vm
run list --all
run dominfo demo-vm
run dumpxml demo-vm

echo
echo "hearthd is serving; try: virsh -c '$uri' list --all"
echo "(Ctrl-C stops the daemon; definitions stay in $root/etc/hearth/qemu)"
wait $daemon

#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` builds it, and `apt install ./brum_*.deb` in a clean Debian 12
# root (debootstrap, minbase: none of brum's libraries are there) pulls in its dependencies; the
# installed brum then runs the demo project headless and finds its themes and man page.
# Usage: tests/pkg/test_deb.sh BUILD_DIR (configured with prefix /usr). Needs root or sudo, and
# the network (the Debian mirror $BRUM_DEB_MIRROR, default deb.debian.org).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
root=$build/deb-root
fail() { echo "FAIL: $*" >&2; exit 1; }
SUDO=
if [ "$(id -u)" -ne 0 ]; then
   sudo -n true 2>/dev/null || fail "building a Debian 12 root needs root or sudo without a password"
   SUDO=sudo
fi
mirror=${BRUM_DEB_MIRROR:-http://deb.debian.org/debian}

(cd "$build" && rm -f brum_*.deb && cpack -G DEB >/dev/null) || fail "cpack -G DEB"
deb=$(ls "$build"/brum_*.deb)
dpkg-deb -f "$deb" Depends | grep -q libuv1 || fail "the package does not depend on libuv1"

cleanup() {
   for m in dev/pts dev proc; do $SUDO umount "$root/$m" 2>/dev/null || true; done
   if mountpoint -q "$root/dev" 2>/dev/null; then fail "cannot unmount $root/dev"; fi
   $SUDO rm -rf "$root"
}
trap cleanup EXIT
cleanup
$SUDO debootstrap --variant=minbase bookworm "$root" "$mirror" >"$build/debootstrap.log" 2>&1 ||
   fail "debootstrap (see $build/debootstrap.log)"
$SUDO chroot "$root" sh -c 'dpkg -s libuv1' >/dev/null 2>&1 && fail "the clean root already has libuv1"
$SUDO cp /etc/resolv.conf "$root/etc/resolv.conf"
$SUDO cp "$deb" "$root/tmp/"
$SUDO cp -r "$src/examples/demo" "$root/tmp/demo"
$SUDO mount -t proc proc "$root/proc"
$SUDO mount --bind /dev "$root/dev" # brum runs scripts in terminals: /dev/ptmx and /dev/pts
$SUDO mount --bind /dev/pts "$root/dev/pts"
in_root() { $SUDO chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
in_root apt-get update -qq >/dev/null || fail "apt-get update in the clean root"
in_root sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/$(basename "$deb")" \
   >"$build/deb-install.log" 2>&1 || fail "apt install ./$(basename "$deb") (see $build/deb-install.log)"
in_root brum --version | grep -q '^brum ' || fail "brum --version in the clean root"
out=$(in_root sh -c 'cd /tmp/demo && brum --headless build 2>&1') || fail "brum --headless build: $out"
grep -q 'build' <<<"$out" || fail "brum --headless build printed: $out"
in_root test -f /usr/share/man/man1/brum.1 || fail "no man page"
in_root test -f /usr/share/brum/themes/light.theme || fail "no themes"
[ "$(in_root sh -c 'cd /tmp/demo && brum --list-names' | head -1)" = dev ] || fail "brum --list-names"
echo "the .deb installs with apt in a clean Debian 12 root and runs: ok"

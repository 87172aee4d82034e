#!/usr/bin/env bash
# Rebuild the bundled default guest (linux-riscv64-Image, initramfs-riscv64.cpio)
# from Debian packages, the way QEMU ships pc-bios/ binaries with their recipe.
#
# Needs (Debian bookworm): linux-source-6.1 bc flex bison libssl-dev libelf-dev cpio
#   gcc-riscv64-linux-gnu, and a deb-src entry for busybox (apt-get source busybox).
# Takes about 5 minutes on 2 cores. Usage: build-riscv64-guest.sh [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-$(mktemp -d)}
cross=riscv64-linux-gnu-
cd "$work"

# --- kernel: tinyconfig + the fragment beside this script ----------------------
rm -rf linux-source-6.1
tar xf /usr/src/linux-source-6.1.tar.xz
cd linux-source-6.1
make ARCH=riscv CROSS_COMPILE=$cross tinyconfig >/dev/null
./scripts/kconfig/merge_config.sh -m .config "$here/linux-riscv64.config" >/dev/null
make ARCH=riscv CROSS_COMPILE=$cross olddefconfig >/dev/null
make -j"$(nproc)" ARCH=riscv CROSS_COMPILE=$cross Image >/dev/null
cp arch/riscv/boot/Image "$here/linux-riscv64-Image"
cp COPYING "$here/COPYING.linux"
kver=$(make -s ARCH=riscv kernelversion)
cd "$work"

# --- busybox, static -----------------------------------------------------------
if [ ! -d busybox-src ]; then
  apt-get source busybox >/dev/null 2>&1
  mv busybox-1.*/ busybox-src
fi
cd busybox-src
make ARCH=riscv CROSS_COMPILE=$cross defconfig >/dev/null
sed -i 's/^# CONFIG_STATIC is not set/CONFIG_STATIC=y/; s/^CONFIG_TC=y/# CONFIG_TC is not set/' .config
make -j"$(nproc)" ARCH=riscv CROSS_COMPILE=$cross >/dev/null
cp LICENSE "$here/COPYING.busybox"
cd "$work"
bbver=$(ls busybox_*.dsc | sed 's/^busybox_//; s/\.dsc$//')

# --- initramfs: uncompressed cpio (the kernel then needs no gunzip at boot) -----
r=$(mktemp -d)
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,root,mnt}
cp busybox-src/busybox "$r/bin/busybox"
ln -s busybox "$r/bin/sh"
cp "$here/guest-init.sh" "$r/init"
chmod +x "$r/init"
(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible) > "$here/initramfs-riscv64.cpio"
rm -rf "$r"

cat > "$here/guest-versions.txt" <<INFO
linux-riscv64-Image: Linux $kver from Debian package linux-source-6.1 ($(dpkg-query -W -f='${Version}' linux-source-6.1)), GPL-2.0 (COPYING.linux)
initramfs-riscv64.cpio: busybox from Debian source package busybox ($bbver), GPL-2.0 (COPYING.busybox)
INFO
echo "built $here/linux-riscv64-Image and $here/initramfs-riscv64.cpio"

#!/bin/sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
hostname pemu
export PS1='pemu:\w# ' HOME=/root PATH=/bin:/sbin:/usr/bin:/usr/sbin
echo "pemu guest: $(uname -sr) on $(uname -m); poweroff -f to leave"
exec setsid cttyhack /bin/sh

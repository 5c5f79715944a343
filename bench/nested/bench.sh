#!/bin/sh
# bench.sh: the nested benchmark's inner part, run inside the nested KVM
# host (or directly on a fast KVM) from the payload run-bench prepared:
# Debian's cloud kernel to the busybox /init marker, kxl against QEMU
# microvm, both booting the same vmlinux ELF with the same initramfs,
# 256 MiB and 2 vCPUs; plus both booting the bzImage (kxl as PVH through
# its own decompressor, QEMU through the Linux boot protocol). Rounds are
# interleaved. Each boot prints
#   BENCH <variant> <round> marker_ms=... exit_ms=... status=... uptime=...
# where uptime is the guest's own /proc/uptime at /init (so marker_ms minus
# uptime is what the VMM and the kernel's decompressor spent before the
# guest kernel's clock started: less noisy than the whole boot).
# and a variant that cannot run prints BENCH <variant> unavailable <why>.
cd "$(dirname "$0")" 2>/dev/null || true
[ -f vmlinuz ] || cd /payload
PATH=$(pwd):$PATH
ROUNDS=${KXL_BENCH_ROUNDS:-3}
MARK=KXL-INIT-OK
mkdir -p logs

kxl_ok=yes
if [ ! -x ./kxl ]; then
    kxl_ok="no kxl binary"
elif ! ./kxl create --help 2>&1 | grep -q -- '-F'; then
    kxl_ok="kxl create has no -F yet"
fi

uptime_of() {	# the guest's uptime at the marker, from log $1
    u=$(sed -n 's/.*KXL-INIT-OK uptime=\([0-9.]*\).*/\1/p' "$1" | head -n 1)
    echo "uptime=${u:--1}"
}
qemu_run() {	# kernel
    boot-timer -t 120 "$MARK" "logs/$v.$r.log" qemu-system-x86_64 -accel kvm \
        -cpu host -M microvm,rtc=off -L qemu-data -smp 2 -m 256 \
        -nodefaults -no-user-config -display none -serial stdio \
        -kernel "$1" -initrd initrd.cpio -append "console=ttyS0"
}
kxl_run() {	# cfg
    if [ "$kxl_ok" != yes ]; then
        [ "$r" = 1 ] && echo "BENCH $v unavailable $kxl_ok"
        return
    fi
    out=$(boot-timer -t 120 "$MARK" "logs/$v.$r.log" ./kxl create -F -c "$1")
    case $out in
    marker_ms=-1*)
        kxl_ok="kxl did not reach /init ($out)"
        echo "BENCH $v unavailable $kxl_ok"
        tail -n 15 "logs/$v.$r.log" | sed 's/^/| /' ;;
    *)  echo "BENCH $v $r $out $(uptime_of "logs/$v.$r.log")" ;;
    esac
}

r=1
while [ "$r" -le "$ROUNDS" ]; do
    v=qemu-vmlinux; echo "BENCH $v $r $(qemu_run vmlinux) $(uptime_of "logs/$v.$r.log")"
    v=kxl-vmlinux; kxl_run bench-vmlinux.cfg
    v=kxl-bzimage; kxl_run bench-bzimage.cfg
    v=qemu-bzimage; echo "BENCH $v $r $(qemu_run vmlinuz) $(uptime_of "logs/$v.$r.log")"
    r=$((r + 1))
done

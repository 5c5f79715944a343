#!/bin/busybox sh
# guest-init.sh: /init of the busybox initramfs that the real-Linux
# scenarios boot (tests/nested). It prints a marker, the kernel command line,
# the number of CPUs and MemTotal, shows the file of extra.cpio when that
# archive was loaded too, then acts on the word kxl.test=WORD of the kernel
# command line: poweroff (default), reboot, panic (through Debian's pvpanic
# modules) or powerbutton (busybox acpid turns the ACPI power button into a
# poweroff once Debian's button and evdev modules are loaded), disk
# (Debian's virtio_blk on kxl's disks: an ext4 root and a read-only disk;
# disk1: the ext4 disk alone; diskkill: a synced file, then unsynced writes
# until the host kills the VMM), bench (bench/nested/run-io-bench's disk
# and network measures) or virtio
# (Debian's virtio modules bind kxl's virtio-mmio devices: rng and hvc0).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "KXL-INIT-OK uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "KXL-CMDLINE: $(cat /proc/cmdline)"
echo "KXL-NPROC: $(nproc)"
echo "KXL-MEMTOTAL-KB: $(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
if [ -f /extra/kxl-extra.txt ]; then
    echo "KXL-EXTRA: $(cat /extra/kxl-extra.txt)"
else
    echo "KXL-EXTRA: none"
fi
word=poweroff
for arg in $(cat /proc/cmdline); do
    case $arg in kxl.test=*) word=${arg#kxl.test=} ;; esac
done
echo "KXL-ACTION: $word"
case $word in
net)
    # issue 14: virtio-net on a tap on the host's bridge. kxl.ip (this
    # guest's address in a /24), kxl.host (the bridge's), kxl.peer (the
    # other guest's); kxl.recv=PORT takes a file from the host on PORT,
    # kxl.send=PORT:MIB sends MIB MiB of random data to the host's PORT.
    for m in virtio_ring virtio virtio_mmio failover net_failover virtio_net; do
        grep -q "^$m " /proc/modules || insmod /lib/modules/$m.ko ||
            echo "KXL-ERROR: insmod $m"
    done
    ip=; host=; peer=; recv=; send=
    for arg in $(cat /proc/cmdline); do
        case $arg in
        kxl.ip=*) ip=${arg#kxl.ip=} ;;
        kxl.host=*) host=${arg#kxl.host=} ;;
        kxl.peer=*) peer=${arg#kxl.peer=} ;;
        kxl.recv=*) recv=${arg#kxl.recv=} ;;
        kxl.send=*) send=${arg#kxl.send=} ;;
        esac
    done
    i=0
    while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    echo "KXL-NET-MAC: $(cat /sys/class/net/eth0/address 2>/dev/null)"
    echo "KXL-NET-MTU: $(cat /sys/class/net/eth0/mtu 2>/dev/null)"
    echo "KXL-NET-FEATURES: $(cat /sys/class/net/eth0/device/features 2>/dev/null)"
    ip link set lo up
    ip addr add "$ip/24" dev eth0
    ip link set eth0 up
    i=0
    while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $i -lt 50 ]; do
        sleep 0.1; i=$((i + 1))
    done
    if ping -c 3 -w 20 "$host" >/tmp/ping 2>&1; then r=ok; else r=fail; fi
    echo "KXL-NET-PING-HOST: $r $(grep -o '[0-9]* packets received' /tmp/ping)"
    # the other guest may still be booting: up to 120 tries, then 3 pings
    i=0
    while ! ping -c 1 -w 2 "$peer" >/dev/null 2>&1 && [ $i -lt 120 ]; do i=$((i + 1)); done
    if ping -c 3 -w 20 "$peer" >/tmp/ping 2>&1; then r=ok; else r=fail; fi
    echo "KXL-NET-PING-PEER: $r $(grep -o '[0-9]* packets received' /tmp/ping)"
    read -r t0 _ < /proc/uptime
    if [ -n "$recv" ]; then
        mkfifo /tmp/hold
        nc -l -p "$recv" <>/tmp/hold >/tmp/in &
        ncpid=$!
        sleep 1
        echo "KXL-NET-LISTENING: $recv"
        i=0
        while kill -0 $ncpid 2>/dev/null && [ $i -lt 4000 ]; do sleep 0.1; i=$((i + 1)); done
        kill -0 $ncpid 2>/dev/null && echo "KXL-NET-RECV-TIMEOUT: $(wc -c < /tmp/in) bytes" && grep eth0 /proc/net/dev
        kill $ncpid 2>/dev/null
        echo "KXL-NET-RECV: $(md5sum < /tmp/in | cut -d' ' -f1) $(wc -c < /tmp/in)"
        rm -f /tmp/in
    fi
    if [ -n "$send" ]; then
        port=${send%:*}; mib=${send#*:}
        dd if=/dev/urandom of=/tmp/out bs=1M count="$mib" 2>/dev/null
        sum=$(md5sum < /tmp/out | cut -d' ' -f1)
        # the host may open its port later (kxl-net lets guest B's rate
        # test run alone first): a refused connection is tried again, up
        # to 300 times a second apart; the time is the last try's
        i=0
        while :; do
            read -r a _ < /proc/uptime
            timeout 600 nc "$host" "$port" < /tmp/out
            rc=$?
            read -r b _ < /proc/uptime
            [ $rc = 0 ] || [ $i -ge 300 ] && break
            i=$((i + 1)); sleep 1
        done
        cs=$(( ${b%.*}${b#*.} - ${a%.*}${a#*.} ))
        echo "KXL-NET-SENT: $sum $(wc -c < /tmp/out) $cs rc=$rc"
    fi
    grep eth0 /proc/net/dev
    echo "KXL-NET-DONE"
    poweroff -f ;;
disk|disk1)
    # issue 14: the ext4 image of disk xvda (root=, rewritten by kxl to the
    # guest's name) gets a file, synced; the read-only disk xvdb shows its
    # data and refuses writes. The serials are the xl vdevs (GET_ID).
    for m in virtio_ring virtio virtio_mmio virtio_blk; do	# dependency order
        grep -q "^$m " /proc/modules || insmod /lib/modules/$m.ko ||
            echo "KXL-ERROR: insmod $m"
    done
    vdb=/dev/vdb; [ $word = disk1 ] && vdb=/dev/vda	# disk1: one disk only
    i=0
    while { [ ! -b /dev/vda ] || [ ! -b $vdb ]; } && [ $i -lt 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
    root=
    for arg in $(cat /proc/cmdline); do
        case $arg in root=*) root=${arg#root=} ;; esac
    done
    echo "KXL-DISK-ROOT: $root"
    echo "KXL-DISK-SERIAL: $(cat /sys/block/vda/serial 2>/dev/null) $(cat /sys/block/vdb/serial 2>/dev/null)"
    echo "KXL-DISK-RO: $(cat /sys/block/vda/ro 2>/dev/null) $(cat /sys/block/vdb/ro 2>/dev/null)"
    echo "KXL-DISK-SIZE: $(cat /sys/block/vda/size 2>/dev/null) $(cat /sys/block/vdb/size 2>/dev/null)"
    echo "KXL-DISK-SEGS: $(cat /sys/block/vda/queue/max_segments 2>/dev/null)"
    mkdir -p /mnt
    if mount -t ext4 "$root" /mnt; then
        token=$(cat /proc/sys/kernel/random/uuid)
        echo "KXL-DISK-TOKEN $token" > /mnt/kxl-disk.txt
        dd if=/dev/urandom of=/mnt/big bs=1M count=4 2>/dev/null
        sync
        echo "KXL-DISK-WROTE: $token $(md5sum < /mnt/big | cut -d' ' -f1)"
        umount /mnt || echo "KXL-ERROR: umount"
    else
        echo "KXL-ERROR: cannot mount $root"
    fi
    [ $word = disk1 ] && { poweroff -f; sleep 10; }
    echo "KXL-RO-DATA: $(head -c 19 /dev/vdb)"
    if [ ! -b /dev/vdb ]; then
        echo "KXL-RO-WRITE: no /dev/vdb"
    elif dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync 2>/dev/null; then
        echo "KXL-RO-WRITE: accepted"
    else
        echo "KXL-RO-WRITE: refused"
    fi
    poweroff -f ;;
diskkill)
    # issue 14's durability check: a file on the ext4 root (xvda, raw) is
    # written and synced, the marker KXL-DISK-SYNCED says so; then the guest
    # keeps writing other, unsynced files until the host SIGKILLs the VMM.
    for m in virtio_ring virtio virtio_mmio virtio_blk; do
        grep -q "^$m " /proc/modules || insmod /lib/modules/$m.ko ||
            echo "KXL-ERROR: insmod $m"
    done
    i=0
    while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    root=
    for arg in $(cat /proc/cmdline); do
        case $arg in root=*) root=${arg#root=} ;; esac
    done
    mkdir -p /mnt
    if mount -t ext4 "$root" /mnt; then
        token=$(cat /proc/sys/kernel/random/uuid)
        echo "KXL-DISK-TOKEN $token" > /mnt/kxl-disk.txt
        dd if=/dev/urandom of=/mnt/big bs=1M count=4 2>/dev/null
        sync
        echo "KXL-DISK-SYNCED: $token $(md5sum < /mnt/big | cut -d' ' -f1)"
        n=0
        while :; do
            dd if=/dev/urandom of=/mnt/junk$((n % 4)) bs=64k count=16 2>/dev/null
            n=$((n + 1))
            [ $n = 8 ] && echo "KXL-DISK-BUSY"
        done
    else
        echo "KXL-ERROR: cannot mount $root"
    fi
    poweroff -f ;;
bench)
    # bench/nested/run-io-bench: kxl.mib MiB written then read with O_DIRECT
    # on /dev/vda, kxl.secs seconds of 4 KiB random reads, kxl.netmib MiB
    # sent over TCP to the host's port 5201 at kxl.host (this guest is
    # kxl.ip/24), all by /bin/iobench; then KXL-BENCH-IDLE and kxl.idle
    # seconds of rest while the host measures the VMM's memory.
    for m in virtio_ring virtio virtio_mmio virtio_blk failover net_failover virtio_net; do
        grep -q "^$m " /proc/modules || insmod /lib/modules/$m.ko ||
            echo "KXL-ERROR: insmod $m"
    done
    mib=256; secs=10; netmib=64; idle=10; ip=; host=
    for arg in $(cat /proc/cmdline); do
        case $arg in
        kxl.mib=*) mib=${arg#kxl.mib=} ;;
        kxl.secs=*) secs=${arg#kxl.secs=} ;;
        kxl.netmib=*) netmib=${arg#kxl.netmib=} ;;
        kxl.idle=*) idle=${arg#kxl.idle=} ;;
        kxl.ip=*) ip=${arg#kxl.ip=} ;;
        kxl.host=*) host=${arg#kxl.host=} ;;
        esac
    done
    i=0
    while { [ ! -b /dev/vda ] || [ ! -e /sys/class/net/eth0 ]; } && [ $i -lt 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
    echo "KXL-BENCH-DISKS: $(ls /sys/block | grep -c '^vd')"
    iobench seqwrite /dev/vda "$mib"
    iobench seqread /dev/vda "$mib"
    iobench randread /dev/vda "$secs"
    if [ -n "$ip" ]; then
        ip link set lo up
        ip addr add "$ip/24" dev eth0
        ip link set eth0 up
        i=0
        while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $i -lt 50 ]; do
            sleep 0.1; i=$((i + 1))
        done
        ping -c 2 -w 10 "$host" >/dev/null 2>&1 || echo "KXL-ERROR: no ping to $host"
        iobench send "$host" 5201 "$netmib"
    fi
    echo "KXL-BENCH-IDLE"
    sleep "$idle"
    poweroff -f ;;
virtio)
    # Debian's virtio modules find kxl's virtio-mmio devices through ACPI
    # (LNRO0005); the report lists them, their interrupts, the entropy
    # source and a line written to hvc0. The order of the modules' own
    # dependencies is not known here: a few rounds load them all.
    for round in 1 2 3; do
        for m in virtio_ring virtio virtio_mmio virtio-rng virtio_console; do
            grep -q "^$(echo $m | tr - _) " /proc/modules ||
                insmod /lib/modules/$m.ko 2>/dev/null
        done
    done
    i=0
    while [ ! -e /dev/hvc0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    echo "KXL-MODULES: $(grep -c '^virtio' /proc/modules)"
    for dv in /sys/bus/virtio/devices/*; do
        echo "KXL-VIRTIO-DEV: ${dv##*/} device=$(cat $dv/device) driver=$(basename "$(readlink $dv/driver)")"
    done
    grep virtio /proc/interrupts | tr -s ' ' | sed 's/^/KXL-IRQ: /'
    echo "KXL-HWRNG: $(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)"
    echo "KXL-RNG-BYTES: $(dd if=/dev/hwrng bs=256 count=4 2>/dev/null | wc -c)"
    # at once: kxl merges ttyS0 and hvc0 line by line, so the UART's line
    # above, maybe still being sent, is not cut by this one
    echo "KXL-HVC-HELLO written to hvc0" > /dev/hvc0 || echo "KXL-ERROR: no /dev/hvc0"
    sleep 0.5
    poweroff -f ;;
regrub|ungrub)
    # issue 16: the bootloader runs again at a reboot. regrub: the disk's
    # grub.cfg (root=, the first partition) gets a new command line for the
    # default entry (kxl.test=poweroff kxl.boot=second), ungrub: loses its
    # grub.cfg and kernel; then the guest reboots.
    for m in virtio_ring virtio virtio_mmio virtio_blk; do
        grep -q "^$m " /proc/modules || insmod /lib/modules/$m.ko ||
            echo "KXL-ERROR: insmod $m"
    done
    root=
    for arg in $(cat /proc/cmdline); do
        case $arg in root=*) root=${arg#root=} ;; esac
    done
    i=0
    while [ ! -b "$root" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    mkdir -p /mnt
    if mount -t ext4 "$root" /mnt; then
        if [ $word = regrub ]; then
            sed -i 's/kxl.test=regrub/kxl.test=poweroff kxl.boot=second/' /mnt/boot/grub/grub.cfg
        else
            rm -f /mnt/boot/grub/grub.cfg /mnt/boot/vmlinuz-kxl /mnt/vmlinuz
        fi
        sync
        umount /mnt || echo "KXL-ERROR: umount"
        echo "KXL-REGRUB: $word done"
    else
        echo "KXL-ERROR: cannot mount $root"
    fi
    reboot -f ;;
reboot)
    reboot -f ;;
panic)
    insmod /lib/modules/pvpanic.ko || echo "KXL-ERROR: insmod pvpanic"
    insmod /lib/modules/pvpanic-mmio.ko || echo "KXL-ERROR: insmod pvpanic-mmio"
    ls /sys/bus/platform/drivers/pvpanic-mmio 2>/dev/null | grep -q : &&
        echo "KXL-PVPANIC: bound" || echo "KXL-PVPANIC: no device"
    echo "KXL-PANIC-NOW"
    # the marker through the kernel's log too: the panic flushes that, while
    # what is still in the serial port's transmit buffer is lost with it
    echo "KXL-PANIC-NOW" > /dev/kmsg
    sleep 0.5
    echo 1 > /proc/sys/kernel/sysrq
    echo c > /proc/sysrq-trigger
    sleep 30; echo "KXL-ERROR: still alive after the panic"; poweroff -f ;;
powerbutton)
    insmod /lib/modules/button.ko || echo "KXL-ERROR: insmod button"
    insmod /lib/modules/evdev.ko || echo "KXL-ERROR: insmod evdev"
    i=0
    while ! ls /dev/input/event* >/dev/null 2>&1 && [ $i -lt 50 ]; do
        sleep 0.1; i=$((i + 1))
    done
    acpid -d -c /etc/acpi &
    sleep 0.5
    echo "KXL-ACPID-READY $(cat /sys/class/input/*/name 2>/dev/null | tr '\n' ',')"
    sleep 300
    echo "KXL-ERROR: no power button event in 300s"; poweroff -f ;;
*)
    poweroff -f ;;
esac
sleep 10
echo "KXL-ERROR: $word did not stop the guest"

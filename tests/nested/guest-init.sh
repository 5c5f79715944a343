#!/bin/busybox sh
# guest-init.sh: /init of the busybox initramfs that the real-Linux
# scenarios boot (tests/nested). It prints a marker, the kernel command line,
# the number of CPUs and MemTotal, shows the file of extra.cpio when that
# archive was loaded too, then acts on the word kxl.test=WORD of the kernel
# command line: poweroff (default), reboot, panic (through Debian's pvpanic
# modules) or powerbutton (busybox acpid turns the ACPI power button into a
# poweroff once Debian's button and evdev modules are loaded).
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
reboot)
    reboot -f ;;
panic)
    insmod /lib/modules/pvpanic.ko || echo "KXL-ERROR: insmod pvpanic"
    insmod /lib/modules/pvpanic-mmio.ko || echo "KXL-ERROR: insmod pvpanic-mmio"
    ls /sys/bus/platform/drivers/pvpanic-mmio 2>/dev/null | grep -q : &&
        echo "KXL-PVPANIC: bound" || echo "KXL-PVPANIC: no device"
    echo "KXL-PANIC-NOW"
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

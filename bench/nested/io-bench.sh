#!/bin/sh
# io-bench.sh: the inner part of run-io-bench (issue 14's device
# benchmarks), run inside the nested KVM host (or directly on a fast KVM)
# from the payload run-io-bench prepared. One guest under kxl, one under
# QEMU microvm, both booting the same vmlinux ELF and initramfs with 256 MiB,
# 2 vCPUs, two raw disks (a scratch image of MIB MiB and a small second one)
# and a NIC on a tap attached to the bridge xenbr0 (10.99.0.1/24). The guest
# (guest-init.sh, kxl.test=bench) measures with /bin/iobench: O_DIRECT
# sequential write and read of MIB MiB, 4 KiB random reads, then TCP to the
# host's iobench receiver; while it rests, the VMM's processes' Pss is
# summed, without the guest RAM mapping. ROUNDS rounds (QEMU, then kxl, in
# each), so that the emulated host's ups and downs fall on both. QEMU's disks use its defaults
# (cache=writeback, aio=threads: the page cache, as kxl's pread/pwrite);
# its tap has no vhost (kxl's NIC is served in user space too). Prints
#   BENCH <host|kxl|qemu> <metric> <value>
# with metrics seqwrite/seqread (MiB/s), randread (IOPS), net (MiB/s, as
# the host's receiver saw it) and pss_total/pss_guest/overhead (KiB).
cd "$(dirname "$0")" 2>/dev/null || true
[ -f vmlinuz ] || cd /payload
PATH=$(pwd):$PATH
MIB=${KXL_BENCH_MIB:-256}
SECS=${KXL_BENCH_SECS:-10}
NETMIB=${KXL_BENCH_NETMIB:-64}
ROUNDS=${KXL_BENCH_ROUNDS:-2}
MEM=256
LOGS=$(pwd)/logs
mkdir -p "$LOGS"
ARGS="console=ttyS0 kxl.test=bench kxl.mib=$MIB kxl.secs=$SECS kxl.netmib=$NETMIB kxl.idle=8 kxl.host=10.99.0.1"

now_cs() {
    read -r up _ < /proc/uptime
    echo $(( ${up%.*} * 100 + 1${up#*.} - 100 ))
}
count() { grep -c -- "$1" "$2" 2>/dev/null || true; }
wait_for() {	# file pattern timeout pid (a line every minute: the host lives)
    end=$(( $(now_cs) + $3 * 100 )); beat=$(( $(now_cs) + 6000 ))
    while [ "$(count "$2" "$1")" -lt 1 ]; do
        [ "$(now_cs)" -ge "$end" ] && return 1
        if [ "$(now_cs)" -ge "$beat" ]; then
            echo "... waiting for $2 in $(basename "$1")"; beat=$(( beat + 6000 ))
        fi
        kill -0 "$4" 2>/dev/null || { [ "$(count "$2" "$1")" -ge 1 ]; return; }
        sleep 0.2
    done
}
tree() {	# PID: PID and every process below it
    for f in /proc/[0-9]*/stat; do
        l=$(cat "$f" 2>/dev/null) || continue
        p=${f#/proc/}; p=${p%/stat}
        r=${l##*) }
        set -- $r
        echo "$p $2"
    done | awk -v root="$1" '{ pp[$1] = $2 }
        END { want[root] = 1; n = 1
              while (n) { n = 0; for (p in pp) if (!(p in want) && (pp[p] in want)) { want[p] = 1; n = 1 } }
              for (p in want) print p }'
}
pss() {	# PIDS...: "total guest" Pss in KiB; guest = mappings of >= MEM MiB
    for p in "$@"; do cat /proc/$p/smaps 2>/dev/null; done |
        awk -v mk=$((MEM * 1024)) '/^Size:/ { sz = $2 } /^Pss:/ { t += $2; if (sz >= mk) g += $2 }
            END { print t + 0, g + 0 }'
}
stop() {	# PID: TERM, then KILL after 10 s
    kill -TERM "$1" 2>/dev/null
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

{ brctl addbr xenbr0 && ip addr add 10.99.0.1/24 dev xenbr0 && ip link set xenbr0 up; } ||
    echo "io-bench: cannot make the bridge xenbr0"
cat > qemu-ifup <<'EOF'
#!/bin/sh
brctl addif xenbr0 "$1" && ip link set "$1" up
EOF
chmod +x qemu-ifup
cat > io-bench.cfg <<EOF
name = "bench-io"
type = "pvh"
kernel = "vmlinux"
ramdisk = "initrd.cpio"
cmdline = "$ARGS kxl.ip=10.99.0.5"
vcpus = 2
memory = $MEM
on_poweroff = "destroy"
disk = [ 'format=raw,vdev=xvda,target=bench.img', 'format=raw,vdev=xvdb,target=bench2.img' ]
vif = [ 'mac=00:16:3e:00:99:05,bridge=xenbr0' ]
EOF

dd if=/dev/zero of=bench.img bs=1M count="$MIB" 2>/dev/null
dd if=/dev/zero of=bench2.img bs=1M count=16 2>/dev/null
# the ceiling: the host reading the image itself (through its page cache when
# the file system has no O_DIRECT, as the nested host's tmpfs: the VMMs'
# reads of the image come from the same page cache)
iobench seqread bench.img "$MIB" >"$LOGS/host.log" 2>&1 ||
    iobench seqread bench.img "$MIB" -b >"$LOGS/host.log" 2>&1
sed -n 's/^IOBENCH seqread \([0-9.]*\) .*/BENCH host seqread \1/p' "$LOGS/host.log"
iobench randread bench.img "$SECS" >>"$LOGS/host.log" 2>&1 ||
    iobench randread bench.img "$SECS" -b >>"$LOGS/host.log" 2>&1
sed -n 's/^IOBENCH randread \([0-9.]*\) .*/BENCH host randread \1/p' "$LOGS/host.log"
grep -q 'Invalid argument' "$LOGS/host.log" &&
    echo "| host: no O_DIRECT on this file system: the host's reads are buffered"
grep -v -e '^IOBENCH' -e 'Invalid argument' "$LOGS/host.log" | sed 's/^/| host: /'

run() {	# variant command...
    v=$1; shift
    log=$LOGS/$v.log
    iobench recv 5201 >"$LOGS/$v-recv.log" 2>&1 &
    rpid=$!
    "$@" </dev/null >"$log" 2>&1 &
    pid=$!
    if wait_for "$log" KXL-BENCH-IDLE 900 $pid; then
        sleep 2
        pids=$(tree $pid)
        set -- $(pss $pids)
        echo "BENCH $v pss_total $1"
        echo "BENCH $v pss_guest $2"
        echo "BENCH $v overhead $(( $1 - $2 ))"
        echo "BENCH $v processes $(for p in $pids; do printf '%s,' "$(cat /proc/$p/comm)"; done)"
    else
        echo "BENCH $v unavailable no KXL-BENCH-IDLE"
        tail -n 20 "$log" | sed 's/^/| /'
    fi
    end=$(( $(now_cs) + 6000 ))
    while kill -0 $pid 2>/dev/null && [ "$(now_cs)" -lt "$end" ]; do sleep 0.5; done
    stop $pid
    stop $rpid
    for m in seqwrite seqread randread; do
        sed -n "s/^IOBENCH $m \([0-9.]*\) .*/BENCH $v $m \1/p" "$log" | tr -d '\r'
    done
    sed -n 's/^IOBENCH recv \([0-9.]*\) .*/BENCH '"$v"' net \1/p' "$LOGS/$v-recv.log"
    grep -E 'IOBENCH|KXL-ERROR|iobench:' "$log" "$LOGS/$v-recv.log" | tr -d '\r' | sed 's/^/| /'
}

round=1
while [ "$round" -le "$ROUNDS" ]; do
echo "BENCH round $round"
run qemu qemu-system-x86_64 -accel kvm -cpu host -M microvm,rtc=off -L qemu-data -smp 2 -m $MEM \
    -nodefaults -no-user-config -display none -serial stdio \
    -kernel vmlinux -initrd initrd.cpio -append "$ARGS kxl.ip=10.99.0.6" \
    -drive id=d0,file=bench.img,format=raw,if=none -device virtio-blk-device,drive=d0 \
    -drive id=d1,file=bench2.img,format=raw,if=none -device virtio-blk-device,drive=d1 \
    -netdev tap,id=n0,ifname=qtap0,script=./qemu-ifup,downscript=no \
    -device virtio-net-device,netdev=n0,mac=00:16:3e:00:99:06
run kxl ./kxl create -F -c io-bench.cfg
round=$((round + 1))
done
rm -f bench.img bench2.img
exit 0

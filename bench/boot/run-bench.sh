#!/bin/sh
# run-bench.sh: fetches the Debian cloud kernel (tests/fetch-debian-kernel),
# extracts its payload and its ELF with the command-line tools, and runs
# bench-boot on them.
#   run-bench.sh BENCH_BOOT SRCROOT [RUNS]
set -eu
bench=$1 src=$2 runs=${3:-15}
dir=$("$src/tests/fetch-debian-kernel") || { echo "cannot fetch the Debian kernel: skipped"; exit 77; }
vmlinuz=$(ls "$dir"/boot/vmlinuz-* | head -n 1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
comp=$(python3 "$src/tests/boot/bzpayload.py" "$vmlinuz" "$tmp/payload")
case $comp in
    lz4) lz4 -d -c "$tmp/payload" > "$tmp/vmlinux" ;;
    xz) xz -d -c "$tmp/payload" > "$tmp/vmlinux" ;;
    zstd) zstd -d -c "$tmp/payload" > "$tmp/vmlinux" ;;
    *) gzip -d -c "$tmp/payload" > "$tmp/vmlinux" ;;
esac
echo "kernel: $vmlinuz ($comp, $(stat -c %s "$vmlinuz") bytes -> $(stat -c %s "$tmp/vmlinux") bytes)"
"$bench" "$vmlinuz" "$tmp/payload" "$tmp/vmlinux" "$runs"

#!/bin/sh
# run-fuzz.sh: runs each libFuzzer target for a bounded time (FUZZ_TIME
# seconds, default 20) from a seed corpus of synthetic kernels and streams.
# A crash, leak or sanitizer report fails the test; the reproducer is kept
# in the printed directory.
#   run-fuzz.sh SRCDIR FUZZ_ELF FUZZ_BZIMAGE FUZZ_DECOMP
set -eu
src=$1; shift
t=${FUZZ_TIME:-20}
work=$(mktemp -d "${TMPDIR:-/tmp}/kxl-fuzz.XXXXXX")
python3 "$src/fuzz/mkcorpus.py" "$src" "$work/seed"
status=0
for f in "$@"; do
    name=$(basename "$f")
    case $name in
        *elf*) seed=elf ;;
        *bzimage*) seed=bzimage ;;
        *) seed=decomp ;;
    esac
    mkdir -p "$work/$name/corpus" "$work/$name/artifacts"
    cp "$work/seed/$seed"/* "$work/$name/corpus/"
    if "$f" -max_total_time="$t" -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 \
        -artifact_prefix="$work/$name/artifacts/" "$work/$name/corpus" \
        >"$work/$name/log" 2>&1; then
        echo "ok   $name: $(grep -E '^stat::number_of_executed_units' "$work/$name/log" | awk '{print $2}') runs in ${t}s"
    else
        echo "FAIL $name: see $work/$name/log and $work/$name/artifacts"
        tail -n 40 "$work/$name/log"
        status=1
    fi
done
[ $status = 0 ] && rm -rf "$work"
exit $status

#!/bin/sh
# test-iasl.sh: `iasl -d` (Debian acpica-tools) must disassemble every ACPI
# table the builder writes (XSDT, FADT, MADT, DSDT) without an error or a
# warning, for a small and a large guest. The RSDP has no table header, so
# iasl cannot read it alone; test-layout checks its checksums and fields.
#   test-iasl.sh KXL_BOOT_DUMP KERNEL
set -eu
dump=$1 kernel=$2
command -v iasl >/dev/null || { echo "iasl not installed (acpica-tools): skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for cfg in "--mem 64 --vcpus 1 --maxvcpus 1" "--mem 8192 --vcpus 4 --maxvcpus 64 --virtio-mmio 8"; do
    rm -rf "$tmp/acpi"
    # shellcheck disable=SC2086
    "$dump" "$kernel" $cfg --quiet --acpi-dir "$tmp/acpi"
    for t in xsdt facp apic dsdt; do
        f=$tmp/acpi/$t.dat
        [ -f "$f" ] || { echo "FAIL ($cfg): no $t table"; status=1; continue; }
        out=$(cd "$tmp/acpi" && iasl -d "$t.dat" 2>&1) || { echo "FAIL ($cfg): iasl -d $t.dat failed:"; echo "$out"; status=1; continue; }
        if echo "$out" | grep -Eiq '(^|[^a-z])(error|warning)'; then
            echo "FAIL ($cfg): iasl -d $t.dat reports:"; echo "$out"; status=1; continue
        fi
        if grep -Eiq '(\*\*\*|error|warning|invalid)' "$tmp/acpi/$t.dsl"; then
            echo "FAIL ($cfg): $t.dsl flags a problem:"; grep -Ein '(\*\*\*|error|warning|invalid)' "$tmp/acpi/$t.dsl"; status=1; continue
        fi
        echo "ok   ($cfg) $t: $(grep -c . "$tmp/acpi/$t.dsl") lines"
    done
done
# The DSDT recompiles: iasl must accept its own disassembly.
(cd "$tmp/acpi" && iasl -p recompiled dsdt.dsl >/dev/null 2>"$tmp/err") ||
    { echo "FAIL: dsdt.dsl does not recompile:"; cat "$tmp/err"; status=1; }
exit $status

#!/bin/sh
# test-cli.sh: the kxl command's help, version and bash completion, all
# generated from the verb table (src/cli/verbs.c): every verb answers
# --help with its usage line and exit 0, `kxl help VERB' says the same,
# a bad option is exit 2 with the usage line, the man page SYNOPSIS names
# every verb, and the completion script parses and completes; `check'
# refuses the files and kernels create would refuse.
#
#   usage: test-cli.sh KXL MAN_PAGE COMPLETION
set -eu
kxl=$1 man=$2 comp=$3
fail=0
no() { echo "FAIL: $*"; fail=1; }

"$kxl" --version | grep -q '^kxl [0-9]' || no "--version"
verbs=$("$kxl" help | awk '/^Verbs:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$verbs" ] || no "kxl help lists no verbs"
for v in $verbs; do
    out=$("$kxl" "$v" --help) || no "$v --help exit $?"
    first=$(printf '%s\n' "$out" | head -n1)
    case $first in "usage: kxl $v"*) ;; *) no "$v --help: $first" ;; esac
    [ "$("$kxl" help "$v" | head -n1)" = "$first" ] || no "help $v differs from $v --help"
    printf '%s\n' "$out" | grep -q -- '-h, --help' || no "$v --help lists no -h"
    err=$("$kxl" "$v" --no-such-option 2>&1 >/dev/null) && no "$v accepted a bad option"
    rc=0; "$kxl" "$v" --no-such-option >/dev/null 2>&1 || rc=$?
    [ "$rc" = 2 ] || no "$v bad option: exit $rc, want 2"
    printf '%s\n' "$err" | grep -q "^kxl $v: \`--no-such-option' is not an option" || no "$v bad option message: $err"
    printf '%s\n' "$err" | grep -qxF "$first" || no "$v bad option: no usage line"
    man_v=$(printf '%s' "$v" | sed 's/-/\\\\-/g')
    grep -q "^\.B kxl $man_v\$\|^\.B kxl $man_v " "$man" || no "kxl(1) SYNOPSIS lacks $v"
done
"$kxl" help no-such-verb >/dev/null 2>&1 && no "help of an unknown verb succeeded"

bash -n "$comp" || no "completion script does not parse"
complete_words() {	# complete_words WORD... : what <TAB> after them offers
    bash -c '. "$1"; shift; kxl() { printf "Name ID\ndomA 1\ndomB 2\n"; }
             COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kxl; echo "${COMPREPLY[*]}"' \
        sh "$comp" "$@" 2>/dev/null
}
[ "$(complete_words kxl cre)" = create ] || no "completion of a verb: $(complete_words kxl cre)"
complete_words kxl create --boot | grep -q -- '--boot-protocol=' || no "completion of an option"
complete_words kxl create x.cfg memo | grep -qw 'memory=' || no "completion of a key"
[ "$(complete_words kxl pause dom)" = "domA domB" ] || no "completion of a domain: $(complete_words kxl pause dom)"
[ "$(complete_words kxl help sh)" = "shutdown" ] || no "completion of help's verb"

# check refuses what create would: unreadable files at their keys, a
# kernel kxl cannot boot; the same in --json
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'name = "c"\ntype = "pvh"\nkernel = "nokernel"\nramdisk = "/nonexistent.img"\nmemory = 64\ndisk = [ "/nonexistent-disk.img,raw,xvda,w" ]\n' >"$tmp/files.cfg"
out=$("$kxl" check "$tmp/files.cfg" 2>&1) && no "check accepted missing files"
printf '%s\n' "$out" | grep -q "files.cfg:3:10: error: kernel \`$tmp/nokernel' cannot be read" || no "check: kernel: $out"
printf '%s\n' "$out" | grep -q "files.cfg:4:11: error: ramdisk" || no "check: ramdisk: $out"
printf '%s\n' "$out" | grep -q "files.cfg:6:10: error: disk spec .*/nonexistent-disk.img: No such file" || no "check: disk: $out"
"$kxl" check --json "$tmp/files.cfg" 2>/dev/null | grep -q '"accepted":false' || no "check --json accepted missing files"
printf 'not a kernel\n' >"$tmp/text"
printf 'name = "c"\ntype = "pvh"\nkernel = "text"\nmemory = 64\n' >"$tmp/boot.cfg"
out=$("$kxl" check "$tmp/boot.cfg" 2>&1) && no "check accepted a kernel kxl cannot boot"
printf '%s\n' "$out" | grep -q "boot.cfg:3:10: error: kxl cannot boot" || no "check: unbootable kernel: $out"

[ $fail = 0 ] && echo "cli: help, usage, man SYNOPSIS and completion agree for: $(echo $verbs)"
exit $fail

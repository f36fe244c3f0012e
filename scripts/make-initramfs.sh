#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the guest initramfs: a newc cpio holding Debian's static
# busybox (/bin/busybox and a link for each of its applets), the given
# static guest tools in /bin, and guest/initramfs/init as /init.
#
# Usage: scripts/make-initramfs.sh OUTPUT TOOL...
#   e.g. scripts/make-initramfs.sh build/initramfs.cpio build/guest/dt-pin
#   OUTPUT ending in .gz is gzip'd; else it is left uncompressed, which
#   boots faster: QEMU hands the guest the file as it is, and gunzip in
#   an emulated CPU costs more (0.15 s under TCG) than the bigger copy.
#
# The archive is written here directly (the newc format is plain ASCII
# headers), which needs neither root nor a cpio that can invent device
# nodes: /dev/console must exist before /init runs, or the kernel starts it
# without a console.  It is reproducible: entries in a fixed order, owner
# 0:0, every mtime $SOURCE_DATE_EPOCH (default 0), gzip -n.
#
# Environment: DMA_TESTDEV_BUSYBOX=/path  another static busybox.

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

usage() {
    echo "usage: $0 OUTPUT TOOL...   (static guest tools, installed in /bin)" >&2
    exit 2
}

[ $# -ge 2 ] || usage
out=$1
shift

busybox=${DMA_TESTDEV_BUSYBOX:-/bin/busybox}
init=$DT_ROOT/guest/initramfs/init
mtime=${SOURCE_DATE_EPOCH:-0}

[ -x "$busybox" ] ||
    dt_die "$busybox not found: run scripts/install-deps.sh kernel (package busybox-static)"
[ -f "$init" ] || dt_die "missing $init"

# A dynamically linked binary would not run: the initramfs has no libc.
is_static() {
    command -v readelf > /dev/null || return 0
    if readelf -lW "$1" 2> /dev/null | grep -q 'Requesting program interpreter'; then
        return 1
    fi
}

is_static "$busybox" || dt_die "$busybox is not statically linked (package busybox-static)"
for tool in "$@"; do
    if [ ! -f "$tool" ] || [ ! -x "$tool" ]; then
        dt_die "$tool: not an executable file"
    fi
    is_static "$tool" || dt_die "$tool is dynamically linked; the initramfs has no libc"
done

tmp=$(mktemp "${out}.XXXXXX")
trap 'rm -f "$tmp"' EXIT

ino=0

# One newc entry: MODE NLINK RDEV_MAJOR RDEV_MINOR NAME [FILE | -> TARGET]
# Data comes from FILE (regular files) or is TARGET (symlinks).
entry() {
    local mode=$1 nlink=$2 rmaj=$3 rmin=$4 name=$5 src=${6:-} size=0 pad
    local namesize=$((${#name} + 1))

    if [ "$src" = '->' ]; then
        src=$7
        size=${#src}
    elif [ -n "$src" ]; then
        size=$(stat -c %s "$src")
    fi
    ino=$((ino + 1))
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        "$ino" "$mode" 0 0 "$nlink" "$mtime" "$size" 0 0 \
        "$rmaj" "$rmin" "$namesize" 0
    printf '%s\0' "$name"
    # Header (110 bytes) plus name, then data, each padded to 4 bytes.
    pad=$(( (4 - (110 + namesize) % 4) % 4 ))
    head -c "$pad" /dev/zero
    if [ "$size" -gt 0 ]; then
        if [ "${6:-}" = '->' ]; then
            printf '%s' "$src"
        else
            cat "$src"
        fi
        head -c $(( (4 - size % 4) % 4 )) /dev/zero
    fi
}

dir() { entry $((0040755)) 2 0 0 "$1"; }
file() { entry $((0100755)) 1 0 0 "$1" "$2"; }
link() { entry $((0120777)) 1 0 0 "$1" '->' "$2"; }
chardev() { entry $((0020600)) 1 "$2" "$3" "$1"; }

mapfile -t applets < <("$busybox" --list | LC_ALL=C sort -u)
[ ${#applets[@]} -gt 0 ] || dt_die "$busybox --list gave no applets"

{
    for d in bin dev proc root sys tmp; do
        dir "$d"
    done
    chardev dev/console 5 1
    chardev dev/null 1 3
    file init "$init"
    file bin/busybox "$busybox"
    declare -A tools=()
    for tool in "$@"; do
        tools[$(basename "$tool")]=$tool
    done
    for name in $(printf '%s\n' "${!tools[@]}" | LC_ALL=C sort); do
        file "bin/$name" "${tools[$name]}"
    done
    for a in "${applets[@]}"; do
        [ "$a" = busybox ] || [ -n "${tools[$a]:-}" ] || link "bin/$a" busybox
    done
    entry 0 1 0 0 'TRAILER!!!'
} | if [ "${out%.gz}" != "$out" ]; then gzip -n -6; else cat; fi > "$tmp"

chmod 644 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
dt_log "initramfs: $out ($(stat -c %s "$out") bytes; busybox, ${*##*/}, init)"

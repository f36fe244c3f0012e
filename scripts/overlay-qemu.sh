#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Overlay dma-testdev onto a QEMU source tree: copy our files in and add the
# few lines QEMU's build needs (Kconfig, meson.build, trace-events, the docs
# index, the qtest list, the fuzz targets).  Idempotent: our lines sit in
# marked blocks that are replaced on every run, and files are only
# rewritten when their content changes, so an unchanged overlay triggers
# no rebuild.  If QEMU moved the line a block is anchored to, this fails
# naming file and line.
#
# Usage: scripts/overlay-qemu.sh QEMU_SRC_DIR

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

[ $# -eq 1 ] || dt_die "usage: $0 QEMU_SRC_DIR"
qemu=$1
[ -f "$qemu/VERSION" ] || dt_die "$qemu is not a QEMU source tree (no VERSION)"

# Copy $1 (relative to our root) to the same path in QEMU if it differs.
copy_in() {
    local rel=$1
    mkdir -p "$(dirname "$qemu/$rel")"
    if ! cmp -s "$DT_ROOT/$rel" "$qemu/$rel"; then
        # A new file rather than a write into the old one, in case the
        # tree shares it by a hard link.
        cp --remove-destination "$DT_ROOT/$rel" "$qemu/$rel"
        dt_log "overlay: $rel"
    fi
}

# Replace $tmp's content into $1 only when it changed.
install_if_changed() {
    local dst=$1 tmp=$2
    if cmp -s "$tmp" "$dst"; then
        rm -f "$tmp"
    else
        mv "$tmp" "$dst"
        dt_log "overlay: patched ${dst#"$qemu"/}"
    fi
}

# Put the body of our snippet file $2 (its leading comment lines dropped)
# into QEMU file $1 as a block between marker comments, after the line that
# equals $3 exactly, or at the end of the file if $3 is empty.
block_in() {
    _block_in '#' '' '^#' "$@"
}

# The same for C files: /* */ markers, and the snippet's leading C comment
# (lines starting with "/*", " *" or "//") dropped.
c_block_in() {
    _block_in '/*' ' */' '^(/[*/]| [*])' "$@"
}

# _block_in OPEN CLOSE HEADER_RE REL SNIPPET ANCHOR [TAG]
# TAG names the markers (default "dma-testdev"): a second block in the same
# file needs its own, or each run would drop the other.
_block_in() {
    local open=$1 close=$2 header=$3 rel=$4 snippet=$5 anchor=$6
    local tag=${7:-dma-testdev}
    local file=$qemu/$rel tmp begin end
    begin="$open $tag: begin (scripts/overlay-qemu.sh)$close"
    end="$open $tag: end$close"
    [ -f "$file" ] || dt_die "overlay: $rel not found in $qemu"
    if [ -n "$anchor" ] && ! grep -qxF -- "$anchor" "$file"; then
        dt_die "overlay: $rel no longer has the line we insert after:" \
            "'$anchor' (QEMU changed; update scripts/overlay-qemu.sh)"
    fi
    tmp=$(mktemp "$file.XXXXXX")
    awk -v begin="$begin" -v end="$end" -v anchor="$anchor" \
        -v header="$header" -v snippet="$DT_ROOT/$snippet" '
        function emit(   line, body) {
            print begin
            body = 0
            while ((getline line < snippet) > 0) {
                if (!body && line ~ header) {
                    continue
                }
                body = 1
                print line
            }
            close(snippet)
            print end
        }
        $0 == begin { skip = 1; next }
        skip && $0 == end { skip = 0; next }
        skip { next }
        { print }
        anchor != "" && $0 == anchor { emit() }
        END { if (anchor == "") emit() }
    ' "$file" > "$tmp"
    install_if_changed "$file" "$tmp"
}

# reStructuredText toctrees take no comments: add a plain entry once.
toctree_entry() {
    local rel=$1 anchor=$2 entry=$3 file=$qemu/$1 tmp
    grep -qxF -- "$entry" "$file" && return 0
    grep -qxF -- "$anchor" "$file" ||
        dt_die "overlay: $rel no longer has the line '$anchor'"
    tmp=$(mktemp "$file.XXXXXX")
    awk -v anchor="$anchor" -v entry="$entry" \
        '{ print } $0 == anchor { print entry }' "$file" > "$tmp"
    install_if_changed "$file" "$tmp"
}

copy_in hw/misc/dma-testdev.c
copy_in hw/misc/dma-testdev-compat.h
copy_in hw/misc/dma-testdev-internal.h
copy_in hw/misc/dma-testdev-epf.c
copy_in hw/misc/dma-testdev-datapath.c
copy_in hw/misc/dma-testdev-datapath.h
copy_in hw/misc/dma-testdev-lanes.c.inc
copy_in include/hw/misc/dma-testdev.h
copy_in tests/qtest/dma-testdev-test.c
for f in "$DT_ROOT"/tests/qtest/dma-testdev/*; do
    copy_in "tests/qtest/dma-testdev/$(basename "$f")"
done
copy_in tests/qtest/dma-testdev-guest-test.c
for f in "$DT_ROOT"/tests/qtest/dma-testdev-guest/*; do
    copy_in "tests/qtest/dma-testdev-guest/$(basename "$f")"
done
copy_in tests/qtest/dma-testdev-bench.c
copy_in tests/qtest/dma-testdev-hardening-test.c
copy_in tests/qtest/libqos/dma-testdev.c
copy_in tests/qtest/libqos/dma-testdev.h
copy_in tests/qtest/fuzz/dma_testdev_state_fuzz.c
copy_in docs/specs/dma-testdev.rst
copy_in docs/system/devices/dma-testdev.rst
copy_in configs/devices/x86_64-softmmu/dma-testdev.mak

block_in hw/misc/Kconfig hw/misc/Kconfig ""
block_in hw/misc/meson.build hw/misc/meson.build \
    "system_ss.add(when: 'CONFIG_EDU', if_true: files('edu.c'))"
block_in hw/misc/trace-events hw/misc/trace-events ""
block_in tests/qtest/meson.build tests/qtest/meson.build \
    "qtests_x86_64 = qtests_i386"
block_in tests/qtest/libqos/meson.build tests/qtest/libqos/meson.build ")"
# A second block: it must follow the "qtests = {...}" dictionary it adds to.
_block_in '#' '' '^#' tests/qtest/meson.build tests/qtest/meson-sources.build \
    "qtest_executables = {}" "dma-testdev sources"
block_in tests/qtest/fuzz/meson.build tests/qtest/fuzz/meson.build \
    "specific_fuzz_ss.add(files('generic_fuzz.c'))"
c_block_in tests/qtest/fuzz/generic_fuzz_configs.h \
    tests/qtest/fuzz/dma-testdev-fuzz-config.h \
    "const generic_fuzz_config predefined_configs[] = {"
toctree_entry docs/specs/index.rst "   edu" "   dma-testdev"
toctree_entry docs/system/device-emulation.rst "   devices/cxl.rst" \
    "   devices/dma-testdev.rst"

# Our fixes to QEMU itself (patches/qemu/, see its README), in order.  A
# patch already in the tree (applied by an earlier run, or merged by the
# QEMU release) is skipped; one that applies neither way stops the build.
for p in "$DT_ROOT"/patches/qemu/*.patch; do
    if patch -d "$qemu" -p1 -R --dry-run -s -f < "$p" > /dev/null 2>&1; then
        continue
    fi
    patch -d "$qemu" -p1 -N -s --no-backup-if-mismatch < "$p" ||
        dt_die "overlay: patches/qemu/$(basename "$p") does not apply to" \
            "$qemu (QEMU changed there: update or drop the patch)"
    dt_log "overlay: applied patches/qemu/$(basename "$p")"
done

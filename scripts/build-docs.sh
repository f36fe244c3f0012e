#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build our two pages, the register reference docs/specs/dma-testdev.rst
# and the usage page docs/system/devices/dma-testdev.rst, to HTML the way
# QEMU's docs build does (QEMU's docs/conf.py with all of its extensions,
# `sphinx-build -W -b html`, warnings are errors), and print the path of
# the specification's HTML page.
#
# By default only our pages are built: they are copied, at the paths they
# have in QEMU, into a source directory that holds nothing else but a
# two-entry index, and built with QEMU's conf.py (-c).  That takes a few
# seconds.  --full builds QEMU's whole manual instead, with our pages
# listed in docs/specs/index.rst and docs/system/device-emulation.rst by
# scripts/overlay-qemu.sh, exactly as QEMU's meson does with --enable-docs
# --enable-werror (about 1.5 min on 2 CPUs); use it to check how the pages
# sit in the manual.
#
# Usage: scripts/build-docs.sh [--full]
# Environment:
#   DMA_TESTDEV_QEMU_SRC=DIR   use your own QEMU checkout (overlaid in place)
#   DMA_TESTDEV_QEMU_SUITE=S   Debian suite of the QEMU source (trixie)
#
# Output goes under $DMA_TESTDEV_CACHE/docs/; the page's path is printed
# on stdout.

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

full=0
while [ $# -gt 0 ]; do
    case $1 in
    --full) full=1; shift ;;
    *) dt_die "unknown option $1 (usage: $0 [--full])" ;;
    esac
done

"$DT_ROOT/scripts/install-deps.sh" docs
"$DT_PYTHON" -c 'import sphinx, sphinx_rtd_theme' 2> /dev/null ||
    dt_die "$DT_PYTHON cannot import sphinx and sphinx_rtd_theme:" \
        "run scripts/install-deps.sh docs (or set DMA_TESTDEV_PYTHON)"

src=$("$DT_ROOT/scripts/prepare-qemu.sh")
[ -f "$src/docs/conf.py" ] || dt_die "$src has no docs/conf.py"

out=$DT_CACHE/docs/$(basename "$src")
if [ $full -eq 1 ]; then
    what="QEMU's whole manual"
    srcdir=$src/docs
    out=$out/full
else
    what="docs/specs/dma-testdev.rst and docs/system/devices/dma-testdev.rst"
    out=$out/page
    srcdir=$out/src
    rm -rf "$srcdir"
    mkdir -p "$srcdir/specs" "$srcdir/system/devices"
    cp "$src/docs/specs/dma-testdev.rst" "$srcdir/specs/"
    cp "$src/docs/system/devices/dma-testdev.rst" "$srcdir/system/devices/"
    cat > "$srcdir/index.rst" <<'EOF'
dma-testdev
===========

.. toctree::

   specs/dma-testdev
   system/devices/dma-testdev
EOF
fi
html=$out/html
log=$out/sphinx.log
mkdir -p "$out"

# As QEMU's docs/meson.build runs it with --enable-werror: -W plus
# kerneldoc_werror, -j auto, QEMU's conf.py; -E and a fresh doctree so that
# every warning is reported on every run, --keep-going to report them all.
sphinx=(env "CONFDIR=/etc/qemu" "$DT_PYTHON" -m sphinx -q -W --keep-going
    -Dkerneldoc_werror=1 -j auto -E
    -Dversion="$(cat "$src/VERSION")" -Drelease=
    -c "$src/docs" -b html -d "$out/doctrees" "$srcdir" "$html")

rm -rf "$html" "$out/doctrees"
# On failure, show the warnings (they are errors here) before giving up.
build() {
    if ! "${sphinx[@]}" > "$log" 2>&1; then
        sed 's/^/    /' "$log" >&2
        dt_log "the whole log: $log"
        return 1
    fi
}
dt_step "sphinx-build -W $what" build

page=$html/specs/dma-testdev.html
[ -f "$page" ] || dt_die "sphinx-build passed but wrote no $page"
echo "$page"

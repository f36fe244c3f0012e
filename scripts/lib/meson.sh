# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# The meson that configures and builds a QEMU tree.  Sourced after
# lib/common.sh and lib/debian-apt.sh.
#
#   dt_qemu_meson QEMU_SRC
#
# QEMU states the meson it accepts in pythondeps.toml ([meson] group).  The
# host's meson (meson/bookworm-backports, 1.7) is used when it is new
# enough.  When it is not, Debian's meson package (arch:all, pure Python) is
# downloaded through the private apt configuration from the oldest Debian
# suite that has a new enough one, unpacked under $DT_CACHE/tools, never
# installed, and put first on PYTHONPATH, where QEMU's configure
# (python/scripts/mkvenv.py, which looks meson up with importlib.metadata)
# finds it.  ninja re-runs meson when a meson.build changes: build-qemu.sh
# also puts that path into the build tree's venv (a .pth file), so that the
# host's older meson never silently regenerates the tree.
#
# Sets DT_QEMU_MESON_VERSION (the meson used) and DT_QEMU_MESON_PYTHONPATH
# (empty for the host's meson).  DMA_TESTDEV_MESON_MIN overrides the minimum
# read from the tree.

# Minimum meson version QEMU_SRC accepts, e.g. "1.5.0".
dt_qemu_meson_min() {
    local src=$1
    if [ -n "${DMA_TESTDEV_MESON_MIN:-}" ]; then
        echo "$DMA_TESTDEV_MESON_MIN"
        return
    fi
    [ -f "$src/pythondeps.toml" ] || { echo 0; return; }
    "$DT_PYTHON" - "$src/pythondeps.toml" <<'EOF'
import re
import sys
import tomllib

with open(sys.argv[1], "rb") as f:
    deps = tomllib.load(f)
accepted = deps.get("meson", {}).get("meson", {}).get("accepted", "")
m = re.fullmatch(r"\s*>=\s*([0-9][0-9.]*)\s*", accepted)
if accepted and not m:
    sys.exit(f"pythondeps.toml: meson accepted '{accepted}' is not '>=X'")
print(m.group(1) if m else "0")
EOF
}

# Version of the meson Python package that $DT_PYTHON sees with the given
# PYTHONPATH (empty: the host's), or nothing.
_dt_meson_version() {
    PYTHONPATH=$1 "$DT_PYTHON" -c \
        'import importlib.metadata as m; print(m.version("meson"))' 2>/dev/null || true
}

dt_qemu_meson() {
    local src=$1 min have suite v best='' best_suite='' dir deb
    min=$(dt_qemu_meson_min "$src") || dt_die "cannot read QEMU's meson requirement"
    have=$(_dt_meson_version "")
    DT_QEMU_MESON_PYTHONPATH=''
    if [ -n "$have" ] && dpkg --compare-versions "$have" ge "$min"; then
        DT_QEMU_MESON_VERSION=$have
        export DT_QEMU_MESON_VERSION DT_QEMU_MESON_PYTHONPATH
        return
    fi

    # Several versions are fine: take the oldest suite's that is.
    dt_apt_private_setup
    for suite in trixie sid experimental; do
        v=$(dt_apt_versions meson "$suite" Packages | head -n1)
        if [ -n "$v" ] && dpkg --compare-versions "$v" ge "$min"; then
            best=$v best_suite=$suite
            break
        fi
    done
    [ -n "$best" ] ||
        dt_die "QEMU in $src needs meson >= $min; the host has ${have:-none} and no Debian suite has one"

    dir=$DT_CACHE/tools/meson-$best
    if [ ! -f "$dir/.dt-complete" ]; then
        rm -rf "$dir"
        mkdir -p "$dir"
        (
            cd "$dir" || exit 1
            # apt checks the .deb against the signed Packages index.
            dt_step "download meson $best ($best_suite; QEMU needs >= $min, host has ${have:-none})" \
                dt_apt_private -qq download "meson=$best"
            deb=$(find . -maxdepth 1 -name 'meson_*_all.deb' | head -n1)
            [ -n "$deb" ] || dt_die "apt-get download meson=$best left no meson_*_all.deb"
            dpkg-deb -x "$deb" root
            rm -f ./*.deb
        ) >&2
        touch "$dir/.dt-complete"
    fi
    DT_QEMU_MESON_PYTHONPATH=$dir/root/usr/lib/python3/dist-packages
    v=$(_dt_meson_version "$DT_QEMU_MESON_PYTHONPATH")
    if [ -z "$v" ] || ! dpkg --compare-versions "$v" ge "$min"; then
        dt_die "unpacked meson in $dir is not usable by $DT_PYTHON (found '${v:-nothing}')"
    fi
    DT_QEMU_MESON_VERSION=$v
    export DT_QEMU_MESON_VERSION DT_QEMU_MESON_PYTHONPATH
    dt_log "meson $v from Debian $best_suite (unpacked in the cache, not installed)"
}

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install the Debian packages that building and testing dma-testdev needs.
# Idempotent and quick when everything is present: only missing packages
# are passed to apt-get.
#
# Usage: scripts/install-deps.sh [GROUP...]   (default: all)
#   GROUP: qemu, kernel, docs, fuzz, lint, dpdk or all.  Several groups
#   are installed by one apt-get call: scripts/lib/build.sh names every
#   group it needs before its builds run side by side (two apt-get calls
#   at once would fight over dpkg's lock).
#   docs: the Sphinx that builds docs/specs/dma-testdev.rst with QEMU's
#         docs/conf.py (scripts/build-docs.sh); "all" does not include it
#   fuzz: clang, libFuzzer and the LLVM coverage tools (scripts/fuzz.sh)
#   lint: shellcheck, flake8 and pylint for the style test (scripts/lint.sh)
#   dpdk: Debian's DPDK for the guest's DPDK program (scripts/fetch-dpdk.sh)

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/debian-apt.sh
source "$DT_ROOT/scripts/lib/debian-apt.sh"

# Host packages from bookworm itself.
# gdb: tests/qemu-fixes/qmp_late_wake.py runs QEMU under it.
qemu_pkgs=(build-essential pkg-config ninja-build flex bison dpkg-dev
    libglib2.0-dev libpixman-1-dev libslirp-dev zlib1g-dev python3-venv
    seabios ipxe-qemu ccache xz-utils gdb)
# libcap-dev: its static libcap.a, for Linux's iommufd selftest, which the
# initramfs carries as a static executable.
kernel_pkgs=(build-essential flex bison xz-utils bc libelf-dev libssl-dev rsync cpio
    busybox-static kmod libcap-dev lz4)
# What QEMU's docs/conf.py imports: Sphinx (with docutils and Pygments) and
# the Read the Docs theme; its extensions (docs/sphinx/) need nothing else
# but perl for kernel-doc in the whole manual (build-docs.sh --full).  Plus
# what scripts/fetch-qemu.sh needs to unpack QEMU's source.
docs_pkgs=(python3-sphinx python3-sphinx-rtd-theme perl dpkg-dev xz-utils)
# clang-14 with its sanitizer and libFuzzer runtimes (libclang-rt-14-dev),
# llvm-14 for llvm-profdata, llvm-cov and llvm-symbolizer.
fuzz_pkgs=(clang-14 llvm-14 libclang-rt-14-dev)
lint_pkgs=(perl shellcheck flake8 pylint)
# DPDK from the machine's own release: bookworm's 22.11 LTS is the newest
# that installs here (trixie's 24.11 and sid's 25.11 need glibc >= 2.38).
# dpkg-dev: scripts/fetch-dpdk.sh unpacks the same version's source.
dpdk_pkgs=(libdpdk-dev pkg-config dpkg-dev xz-utils)
# meson >= 1.5 is needed by QEMU 10; bookworm has 1.0.1.
backports_pkgs=(meson)

[ $# -gt 0 ] || set -- all
pkgs=() need_meson=0
for what in "$@"; do
    case $what in
    qemu) pkgs+=("${qemu_pkgs[@]}"); need_meson=1 ;;
    kernel) pkgs+=("${kernel_pkgs[@]}") ;;
    docs) pkgs+=("${docs_pkgs[@]}") ;;
    fuzz) pkgs+=("${fuzz_pkgs[@]}") ;;
    lint) pkgs+=("${lint_pkgs[@]}") ;;
    dpdk) pkgs+=("${dpdk_pkgs[@]}") ;;
    all) pkgs+=("${qemu_pkgs[@]}" "${kernel_pkgs[@]}" "${fuzz_pkgs[@]}"
        "${lint_pkgs[@]}"); need_meson=1 ;;
    *) dt_die "unknown group '$what'; usage: $0 [qemu|kernel|docs|fuzz|lint|dpdk|all]..." ;;
    esac
done
mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)

# One dpkg-query for all of them: every script of a run calls this first,
# and a query per package cost 1.4 s of a warm run.
declare -A installed=()
while IFS=$'\t' read -r p status version; do
    case $status in
    *' ok installed') installed[$p]=$version ;;
    esac
done < <(dpkg-query -W -f='${Package}\t${Status}\t${Version}\n' \
    "${pkgs[@]}" meson 2> /dev/null || true)
missing=()
for p in "${pkgs[@]}"; do
    [ -n "${installed[$p]:-}" ] || missing+=("$p")
done

meson_ok() {
    local meson
    meson=$(command -v meson) || return 1
    # Debian's meson, the one on PATH: its version without starting Python.
    if [ "$meson" = /usr/bin/meson ] && [ -n "${installed[meson]:-}" ]; then
        dpkg --compare-versions "${installed[meson]}" ge 1.5
        return
    fi
    dpkg --compare-versions "$(meson --version)" ge 1.5
}

need_backports=0
if [ $need_meson -eq 1 ] && ! meson_ok; then
    need_backports=1
fi

if [ ${#missing[@]} -eq 0 ] && [ $need_backports -eq 0 ]; then
    exit 0
fi

dt_need_root_for_apt "${missing[*]}" "${backports_pkgs[*]}"
export DEBIAN_FRONTEND=noninteractive

if [ $need_backports -eq 1 ]; then
    # bookworm-backports is NotAutomatic: adding it never upgrades anything
    # by itself; only packages named with /bookworm-backports come from it.
    # From the archive the machine already uses.
    bp=/etc/apt/sources.list.d/dma-testdev-bookworm-backports.sources
    if [ ! -f "$bp" ]; then
        cat > "$bp" <<EOF
Types: deb
URIs: $DT_DEBIAN_MIRROR
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    fi
fi

dt_step "apt-get update" apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
    dt_step "apt-get install ${missing[*]}" \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ $need_backports -eq 1 ]; then
    bp_args=()
    for p in "${backports_pkgs[@]}"; do
        bp_args+=("$p/bookworm-backports")
    done
    dt_step "apt-get install ${bp_args[*]}" \
        apt-get install -y -qq --no-install-recommends "${bp_args[@]}"
    meson_ok || dt_die "meson >= 1.5 still missing after installing it from bookworm-backports"
fi

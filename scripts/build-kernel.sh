#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the guest kernel (bzImage) and install its UAPI headers, out of
# tree, in the cache.  Prints key=value lines on stdout:
#   kernel_version=<release>  bzimage=<path>  uapi=<include dir>
# Everything else goes to stderr; make's output goes to a log in the build
# directory, whose tail is shown if a step fails.
#
# Usage: scripts/build-kernel.sh [--variant VARIANT]
#   --variant iommufd-container  the second guest kernel: iommufd provides
#                 the legacy VFIO container (guest/kernel/
#                 iommufd-vfio-container.config merged last), built in a
#                 tree of its own
#   --variant iommufd-selftest   the third: the second plus what Linux's
#                 iommufd selftest needs (guest/kernel/
#                 iommufd-selftest.config: IOMMUFD_TEST, fault injection)
#
# All three build from the source with patches/linux/iommufd-selftest/
# applied (a hard-linked copy; the fetched tree stays as is).  Those
# patches touch only what IOMMUFD_TEST compiles, which this script checks,
# so the first two kernels are the source's own; one tree for all three
# lets the second and third start from the first one's build.
#
# Environment:
#   DMA_TESTDEV_KERNEL_SRC=/path  build this Linux tree instead of Debian's
#                                 linux-source-7.N (see fetch-kernel.sh)
#   DMA_TESTDEV_BZIMAGE=/path     boot this bzImage instead of building one;
#                                 the UAPI headers still come from the
#                                 kernel source (headers_install only)
#   DMA_TESTDEV_JOBS=N            make -jN (default: nproc)
#   DT_KERNEL_UAPI_READY=FILE     (scripts/lib/build.sh) write the uapi= and
#                                 kernel_src= lines to FILE as soon as the
#                                 headers are in place, before the image:
#                                 the guest tools can build meanwhile

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/debian-apt.sh
source "$(dirname "$0")/lib/debian-apt.sh"

variant=default
if [ "${1:-}" = --variant ] && [ $# -eq 2 ]; then
    variant=$2
elif [ $# -ne 0 ]; then
    dt_die "usage: $0 [--variant default|iommufd-container|iommufd-selftest]"
fi
fragments=("$DT_ROOT/guest/kernel/dma-testdev.config")
# Every variant builds from the same tree (see the top); once the kernel
# has the fix, the series is dropped and the kernels build from the source.
patches=()
for p in "$DT_ROOT"/patches/linux/iommufd-selftest/*.patch; do
    [ ! -f "$p" ] || patches+=("$p")
done
case $variant in
default) ;;
iommufd-container)
    fragments+=("$DT_ROOT/guest/kernel/iommufd-vfio-container.config") ;;
iommufd-selftest)
    fragments+=("$DT_ROOT/guest/kernel/iommufd-vfio-container.config"
        "$DT_ROOT/guest/kernel/iommufd-selftest.config") ;;
*) dt_die "unknown kernel variant '$variant' (default, iommufd-container, iommufd-selftest)" ;;
esac
arch=x86_64
# The variants build side by side (scripts/lib/build.sh): their progress
# lines name them.
tag=''
[ "$variant" = default ] || tag="$variant kernel: "
# Bump when the way .config is produced changes (base config, merge
# method), so that a new build directory is used rather than a stale one.
recipe="v2 ARCH=$arch base=allnoconfig+tiny-base.config merge=merge_config.sh-m(tiny.config+fragment)+olddefconfig"

"$DT_ROOT/scripts/install-deps.sh" kernel
# Kbuild's own host tools; install-deps.sh may not list all of them.
for tool in make gcc flex bison bc rsync xz lz4; do
    command -v "$tool" > /dev/null ||
        dt_die "$tool not found: apt-get install build-essential flex bison bc rsync xz-utils lz4 libelf-dev"
done
for f in "${fragments[@]}"; do
    [ -f "$f" ] || dt_die "missing $f"
done
# The fragments as one: a later line about a symbol replaces an earlier one.
merged_fragment() {
    awk '
        /^CONFIG_[A-Za-z0-9_]+=/ { sym = substr($0, 1, index($0, "=") - 1) }
        /^# CONFIG_[A-Za-z0-9_]+ is not set$/ { sym = $2 }
        /^CONFIG_|^# CONFIG_.* is not set$/ {
            if (!(sym in line)) order[n++] = sym
            line[sym] = $0
        }
        END { for (i = 0; i < n; i++) print line[order[i]] }
    ' "${fragments[@]}"
}

src=$("$DT_ROOT/scripts/fetch-kernel.sh")
# What the callers are told is the source (kernel_src=): the tree as
# fetched or given, without our patches.
tree=$(cd "$src" && pwd)

# The copy of a tree of your own brought up to date from its last listing
# ($psrc.listing): files new or changed since are linked in again, files
# gone are removed.  Fails (and the copy is made afresh) without a
# listing, or when a patch touches a changed file.
update_patched_copy() {
    local old=$psrc.listing p f
    local -A patched=()
    [ -n "$listing" ] && [ -f "$old" ] && [ -d "$psrc" ] || return 1
    for p in "${patches[@]}"; do
        while IFS= read -r f; do patched[$f]=1; done < <(dt_patch_files "$p")
    done
    # "TIME SIZE PATH" lines only in the new listing: new or changed files.
    while IFS= read -r f; do
        f=${f#* } f=${f#* }
        [ -z "${patched[$f]:-}" ] || return 1
        mkdir -p "$psrc/$(dirname "$f")"
        ln -f "$src/$f" "$psrc/$f" 2> /dev/null || cp -f "$src/$f" "$psrc/$f"
    done < <(LC_ALL=C comm -13 "$old" - <<< "$listing")
    # Paths only in the old listing: files gone.
    while IFS= read -r f; do
        [ -z "${patched[$f]:-}" ] || return 1
        rm -f "$psrc/$f"
    done < <(LC_ALL=C comm -23 <(cut -d' ' -f3- "$old" | LC_ALL=C sort) \
        <(cut -d' ' -f3- <<< "$listing" | LC_ALL=C sort))
    dt_log "copy of $src: brought up to date"
}

# The kernels build from a copy of the tree with the patches applied:
# hard links, but a private copy of every file a patch touches, so that
# patch(1) never writes through a link into the fetched source.  Named by
# what the patches change (from their first "diff --git" line on:
# rewording a commit message rebuilds nothing), and for a tree of your own
# (DMA_TESTDEV_KERNEL_SRC) by its path too.  Debian's tree never changes.
# Yours is listed (time, size and path of every file); when the listing
# changes, the copy takes the files that changed (new links; 0.1 s where
# copying the tree again took 3 s of each edit-and-test loop), or is made
# afresh if a patch touches one of them.  Under the same name, so that
# the build directory stays and make rebuilds what changed.
if [ ${#patches[@]} -gt 0 ]; then
    src=$tree
    fingerprint=fetched listing=''
    if [ -n "${DMA_TESTDEV_KERNEL_SRC:-}" ]; then
        listing=$(find "$src" -name .git -prune -o -type f \
            -printf '%T@ %s %P\n' | LC_ALL=C sort)
        fingerprint=$(sha256sum <<< "$listing" | cut -c1-16)
    fi
    psrc=$DT_CACHE/src/$(basename "$src")-patched-$( {
        [ "$fingerprint" = fetched ] || echo "$src"
        for p in "${patches[@]}"; do sed -n '/^diff --git /,$p' "$p"; done
    } | sha256sum | cut -c1-12)
    # The variants build side by side (lib/build.sh): one copies at a time.
    exec {lock}> "$psrc.lock"
    flock "$lock"
    # The marker lies beside the copy, not in it: a file written in the
    # copy would be written through its link into the tree (once, the
    # fetched tree's own marker was).
    if [ "$(cat "$psrc.complete" 2> /dev/null)" != "$fingerprint" ]; then
        rm -f "$psrc.complete"
        if ! update_patched_copy; then
            dt_step "copy of $src with ${patches[*]##*/}" \
                dt_patched_copy "$src" "$psrc" "${patches[@]}"
        fi
        [ -z "$listing" ] || printf '%s\n' "$listing" > "$psrc.listing"
        echo "$fingerprint" > "$psrc.complete"
    fi
    flock -u "$lock"
    src=$psrc
fi

# Fail before spending minutes on a build that cannot serve the tests.
hdr=$src/include/uapi/linux/iommufd.h
grep -q '^#define IOMMU_IOAS_NOIOMMU_GET_PA\b' "$hdr" 2> /dev/null ||
    dt_die "$src is too old: $hdr does not define IOMMU_IOAS_NOIOMMU_GET_PA (needs Linux >= 7.3)"

# Kbuild refuses O= builds from a tree that was configured in place; say
# how to fix it instead of leaving that to the log.
if [ -f "$src/.config" ] || [ -d "$src/include/config" ]; then
    dt_die "$src has been built in place; O= builds need a clean tree: make -C '$src' mrproper"
fi

srcversion=$(make -s -C "$src" kernelversion)
[ -n "$srcversion" ] || dt_die "cannot read the kernel version of $src"

# The build directory is named by everything that decides .config, so a
# changed fragment gets a fresh tree and going back to an old fragment
# finds its build still there.  The compiler is part of it because a new
# one rebuilds everything anyway.
build_dir() {
    echo "$DT_CACHE/build/linux-$srcversion-$( {
        printf '%s\n' "$recipe" "src=$(cd "$src" && pwd)" "srcversion=$srcversion"
        "${CC:-gcc}" --version | head -n1
        cat "$@"
    } | sha256sum | cut -c1-12)"
}
build=$(build_dir "${fragments[@]}")
# A new build directory of a variant without patches starts as a copy of
# the default kernel's finished build of the same tree.  Kbuild records
# which CONFIG_ symbols each object reads (fixdep, include/config/), so
# after the variant's .config only those objects compile again: the
# iommufd-container kernel compiles 9 files instead of 1300 (23 s instead
# of 8 minutes on two cores; the same .config, symbols and sizes as when
# built from nothing).  The source's path is in every recorded command
# line, which is why all variants build from the same patched copy.
# The default kernel of a changed fragment starts the same way, from the
# newest finished default build of the same tree: an edit of the fragment
# compiles what reads the symbols it changed, not the whole kernel.
newest_default_build() {
    local d best=''
    for d in "$DT_CACHE/build/linux-$srcversion"-*/; do
        d=${d%/}
        case $d in *.seeding) continue ;; esac
        # A variant's directory has its merged fragment.
        if [ ! -f "$d/.dt-built" ] || [ -f "$d/dt-fragment.config" ] ||
            [ ! "$d/source" -ef "$src" ]; then
            continue
        fi
        if [ -z "$best" ] || [ "$d/.dt-built" -nt "$best/.dt-built" ]; then
            best=$d
        fi
    done
    echo "$best"
}
seed=''
if [ ! -e "$build" ]; then
    seed=$(build_dir "${fragments[0]}")
    if [ "$seed" = "$build" ] || [ ! -f "$seed/.dt-built" ]; then
        seed=$(newest_default_build)
    fi
fi
if [ -n "$seed" ]; then
    # Used: no other run's clean-up removes it under the copy.
    touch "$seed/.dt-used"
    rm -rf "$build.seeding"
    dt_step "start the $variant kernel from a copy of $seed" \
        cp -a "$seed" "$build.seeding"
    # The UAPI headers come from the same tree: they stay.
    rm -f "$build.seeding"/.dt-config-ok "$build.seeding"/.dt-built
    echo "$seed" > "$build.seeding/.dt-seeded-from"
    mv "$build.seeding" "$build"
fi
mkdir -p "$build"
touch "$build/.dt-used"
log=$build/build.log
if [ ${#fragments[@]} -eq 1 ]; then
    fragment=${fragments[0]}
else
    fragment=$build/dt-fragment.config
    merged_fragment > "$fragment"
fi

kmake() {
    make -C "$src" O="$build" ARCH="$arch" "$@"
}

# The first half of make tinyconfig (see its use).
tiny_base() {
    KCONFIG_ALLCONFIG=$src/kernel/configs/tiny-base.config kmake allnoconfig
}

# Run make with its output in the log; show the log's tail on failure.
# A long step says every 20 s how far it got (files compiled so far, from
# Kbuild's "  CC" lines): a cold bzImage takes minutes on 2 cores.
logged() {
    local what=$tag$1 rc=0 pid start last n0 n cpu
    shift
    printf '\n=== %s: %s\n' "$(date '+%F %T')" "$what" >> "$log"
    dt_log "$what ..."
    start=$(date +%s)
    last=$start
    n0=$(grep -c '^  CC ' "$log" || true)
    # The command's own processor time, from the subshell that waits for
    # it: this shell's would also count the background headers_install
    # if it ended meanwhile.
    cpu=$(mktemp)
    (
        rc=0
        "$@" || rc=$?
        dt_cpu_mark
        echo "$DT_CPU_TICKS" > "$cpu"
        exit "$rc"
    ) >> "$log" 2>&1 &
    pid=$!
    # Killed, the script takes make with it: no orphan writing the tree.
    trap 'kill "$pid" 2> /dev/null' INT TERM
    while kill -0 "$pid" 2> /dev/null; do
        # Short: a make with nothing to do ends in a fraction of a second.
        sleep 0.2
        if [ $(( EPOCHSECONDS - last )) -ge 20 ]; then
            last=$EPOCHSECONDS
            n=$(grep -c '^  CC ' "$log" || true)
            dt_log "$what: $(( last - start )) s, $(( n - n0 )) files compiled"
        fi
    done
    wait "$pid" || rc=$?
    trap - INT TERM
    if [ "$rc" -ne 0 ]; then
        rm -f "$cpu"
        tail -n 40 "$log" >&2
        dt_die "$what failed (exit $rc); full log: $log"
    fi
    dt_cpu_s "$(cat "$cpu")"
    rm -f "$cpu"
    dt_log "$what: done in $(( $(date +%s) - start )) s, CPU $DT_CPU_S s"
}

# Every CONFIG_X=v line of the fragment must appear verbatim in .config,
# and every "# CONFIG_X is not set" must have no CONFIG_X= line there.
check_config() {
    local config=$1 line sym want got bad=0
    local -A have=()
    # .config read once (a sed per symbol cost a second of every run).
    while IFS= read -r line; do
        [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]] || continue
        have[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
    done < "$config"
    while IFS= read -r line; do
        if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
            sym=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
        elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
            sym=${BASH_REMATCH[1]} want=''
        else
            continue
        fi
        got=${have[$sym]:-}
        if [ "$got" != "$want" ]; then
            dt_log "dropped: $sym: fragment wants ${want:-not set}, .config has ${got:-not set} (a dependency is off?)"
            bad=1
        fi
    done < "$fragment"
    [ "$bad" -eq 0 ] ||
        dt_die "options of $fragment did not land in $config (Kconfig drops options whose dependencies are off)"
}

# The UAPI headers the guest tools compile against.
#
# For Debian's tree they are Debian's own headers_install of it: the
# package linux-libc-dev of the same version, built from the same source
# package (2 MB to download and 0.2 s to unpack; compared byte for byte
# with headers_install of linux-source-7.3 7.3~rc7-1~exp1: the same 1025
# files).  headers_install itself runs about 1000 shell scripts, 50 s of
# CPU, in the minute of a cold run when configure, Kconfig and unpacking
# already want both cores.  Should the package be missing from the
# archive, or a patch of ours touch the UAPI, headers_install runs.
#
# headers_install reads no .config (it is one of Kbuild's no-dot-config
# targets), so it runs in an output directory of its own, in the
# background, while the kernel is configured and compiled.  The stamp
# holds what they were installed from (the package and version, or the
# time, size and name of every file under the UAPI directories and of the
# scripts that install them): Debian's fetched tree never changes, and a
# tree of your own (DMA_TESTDEV_KERNEL_SRC) gets them again only when one
# of those changed.  Reinstalled headers are new files, and the guest
# tools and initramfs would follow them.
uapi=$build/uapi/include
stamp=$build/uapi/.dt-installed
hdr_log=$build/uapi-obj/headers_install.log
hdr_rc=$build/uapi-obj/headers_install.rc
hdr_pid=0
uapi_from='' libc_dev=''
if [ -n "${DMA_TESTDEV_KERNEL_SRC:-}" ]; then
    uapi_from=$( { find "$src/include/uapi" "$src/arch/x86/include/uapi" \
        "$src/scripts/headers_install.sh" "$src/scripts/Makefile.headersinst" \
        "$src/usr/include/Makefile" -printf '%T@ %s %P\n' 2> /dev/null || true; } |
        LC_ALL=C sort | sha256sum | cut -c1-16)
else
    libc_dev=$(sed -n 's/^version=//p' "$tree/.dt-complete" 2> /dev/null || true)
    for p in "${patches[@]}"; do
        if dt_patch_files "$p" | grep -qE '^(include/uapi|arch/x86/include/uapi)/'; then
            libc_dev=''
        fi
    done
    [ -z "$libc_dev" ] || uapi_from="linux-libc-dev=$libc_dev"
fi
installed_from() {
    [ -f "$stamp" ] && [ -f "$uapi/linux/iommufd.h" ] && [ "$(cat "$stamp")" = "$1" ]
}
if installed_from "$uapi_from"; then
    :
elif [ -n "$libc_dev" ] && dt_linux_libc_dev "$libc_dev" "$build/uapi"; then
    echo "$uapi_from" > "$stamp"
    dt_log "${tag}UAPI headers: Debian's linux-libc-dev $libc_dev, headers_install of the same source"
elif [ -n "$libc_dev" ] && installed_from ''; then
    # headers_install of the same tree, from an earlier run.
    :
else
    if [ -n "$libc_dev" ]; then
        dt_log "${tag}no linux-libc-dev $libc_dev to be had: make headers_install instead"
        uapi_from=''
    fi
    rm -f "$stamp" "$hdr_rc"
    mkdir -p "$build/uapi-obj"
    hdr_start=$(date +%s)
    # Its exit status goes to a file: by the time this script asks, the
    # pid may belong to another process.  This host's pid_max is 32768,
    # and a kernel build forks enough to wrap it; bash forgets a finished
    # child's status once one of its own new children gets the same pid,
    # and wait then says 127 (seen in a cold build).
    (
        make -C "$src" O="$build/uapi-obj" ARCH="$arch" -j"$DT_JOBS" \
            headers_install INSTALL_HDR_PATH="$build/uapi" > "$hdr_log" 2>&1 &
        make_pid=$!
        trap 'kill "$make_pid" 2> /dev/null; exit 143' TERM
        rc=0
        wait "$make_pid" || rc=$?
        echo "$rc" > "$hdr_rc"
    ) &
    hdr_pid=$!
    # shellcheck disable=SC2064 # the pid and file, now
    trap "[ -f '$hdr_rc' ] || kill $hdr_pid 2> /dev/null" EXIT
    dt_log "${tag}make headers_install: in the background (log: $hdr_log)"
fi
# What the guest tools need from this script, once it is there.
uapi_ready() {
    if [ -n "${DT_KERNEL_UAPI_READY:-}" ]; then
        printf 'uapi=%s\nkernel_src=%s\n' "$uapi" "$tree" > "$DT_KERNEL_UAPI_READY.tmp"
        mv -f "$DT_KERNEL_UAPI_READY.tmp" "$DT_KERNEL_UAPI_READY"
    fi
}
[ "$hdr_pid" -ne 0 ] || uapi_ready

if [ -n "${DMA_TESTDEV_BZIMAGE:-}" ] && [ "$variant" != default ]; then
    dt_die "DMA_TESTDEV_BZIMAGE is one kernel: the $variant variant cannot come from it"
elif [ -n "${DMA_TESTDEV_BZIMAGE:-}" ]; then
    bzimage=$(cd "$(dirname "$DMA_TESTDEV_BZIMAGE")" && pwd)/$(basename "$DMA_TESTDEV_BZIMAGE")
    [ -f "$bzimage" ] || dt_die "DMA_TESTDEV_BZIMAGE=$DMA_TESTDEV_BZIMAGE: no such file"
    # x86 boot protocol: "HdrS" at 0x202; the kernel version string's
    # offset (minus 0x200) is the 16-bit word at 0x20e.
    [ "$(dd if="$bzimage" bs=1 skip=$((0x202)) count=4 2> /dev/null)" = HdrS ] ||
        dt_die "DMA_TESTDEV_BZIMAGE=$bzimage is not an x86 bzImage"
    off=$(od -An -t u2 -j $((0x20e)) -N 2 "$bzimage" | tr -d ' ')
    kernel_version=$(dd if="$bzimage" bs=1 skip=$((off + 0x200)) count=256 2> /dev/null |
        tr '\0' '\n' | head -n1 | cut -d' ' -f1)
    dt_log "using the given bzImage $bzimage ($kernel_version); UAPI headers from $src"
else
    # The build directory is keyed by the fragment, so a finished
    # configuration never needs redoing; the marker also covers a
    # configuration interrupted half-way.
    if [ ! -f "$build/.dt-config-ok" ]; then
        rm -f "$build/.config"
        # make tinyconfig, and the fragment over it, in two Kconfig runs
        # instead of three: tinyconfig is allnoconfig with tiny-base.config
        # and then the tiny.config fragments merged and olddefconfig, so
        # the fragment joins that merge.  Each run evaluates every
        # Kconfig file and its compiler probes (about 60 gcc runs): 7 s of
        # CPU less (20 -> 13 s), and the same .config for all three
        # variants (compared on linux-source-7.3 7.3~rc7-1~exp1).
        tiny=()
        for f in "$src/kernel/configs/tiny.config" "$src/arch/x86/configs/tiny.config"; do
            [ ! -f "$f" ] || tiny+=("$f")
        done
        if [ ! -f "$src/kernel/configs/tiny-base.config" ] || [ ${#tiny[@]} -eq 0 ]; then
            dt_die "$src has no kernel/configs/tiny-base.config and tiny.config: not a Linux >= 7.3 tree?"
        fi
        logged "make allnoconfig with tiny-base.config ($arch)" tiny_base
        logged "merge tiny.config and $(basename "$fragment")" \
            "$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" \
            "${tiny[@]}" "$fragment"
        logged "make olddefconfig" kmake olddefconfig
        check_config "$build/.config"
        touch "$build/.dt-config-ok"
    else
        check_config "$build/.config"
    fi
    # Debian's fetched tree never changes: once this build directory
    # (keyed by tree, patches, fragment and compiler) has its image, a
    # warm run skips make's walk of the tree (16 s per kernel variant).
    # A tree of your own (DMA_TESTDEV_KERNEL_SRC) is always made.
    built=$build/.dt-built
    if [ -z "${DMA_TESTDEV_KERNEL_SRC:-}" ] && [ -f "$built" ] &&
       [ -f "$build/vmlinux" ] && [ -f "$build/arch/x86/boot/bzImage" ]; then
        dt_log "${tag}kernel image up to date in $build (fetched source: no make)"
    else
        rm -f "$built"
        seeded_from=$build/.dt-seeded-from
        if [ -f "$seeded_from" ]; then
            # objtool is built by tools/'s own Makefiles, which record
            # absolute output paths, so the copy builds it again; every
            # object depends on objtool and would follow.  It is the same
            # program (same source, same compiler, nothing of .config in
            # it): what make prepare built gets the time of the copied
            # objtool, so that neither tools/ nor Kbuild sees anything new.
            logged "make prepare" kmake -j"$DT_JOBS" prepare
            objtool=$(cat "$seeded_from")/tools/objtool/objtool
            if [ -f "$objtool" ] && [ -d "$build/tools/objtool" ]; then
                find "$build/tools/objtool" -exec touch -h -r "$objtool" {} +
            fi
            rm -f "$seeded_from"
        fi
        logged "make bzImage -j$DT_JOBS" kmake -j"$DT_JOBS" bzImage
        touch "$built"
    fi
    # The patches are for the third kernel alone (see the top): a file
    # they touch that another kernel compiled would make it a patched
    # kernel, not the source's.
    if [ "$variant" != iommufd-selftest ]; then
        for p in "${patches[@]}"; do
            while IFS= read -r f; do
                [ "${f%.c}" = "$f" ] || [ ! -f "$build/${f%.c}.o" ] ||
                    dt_die "$(basename "$p") changes $f, which the $variant kernel compiles: patches/linux/iommufd-selftest/ is for what only IOMMUFD_TEST builds"
            done < <(dt_patch_files "$p")
        done
    fi
    # arch/x86_64/boot/bzImage is only a symlink to this.
    bzimage=$build/arch/x86/boot/bzImage
    # What the guests boot: the uncompressed ELF, through PVH (CONFIG_PVH).
    # Under TCG that spares the bzImage's decompressor and real-mode
    # set-up, about a second of emulated CPU; the bzImage is the same
    # kernel, for other boot loaders and the accelerator probe.
    boot=$build/vmlinux
    kernel_version=$(cat "$build/include/config/kernel.release")
fi

if [ "$hdr_pid" -ne 0 ]; then
    wait "$hdr_pid" 2> /dev/null || true
    rc=$(cat "$hdr_rc" 2> /dev/null) || rc=1
    trap - EXIT
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "$hdr_log" >&2
        dt_die "make headers_install failed (exit $rc); full log: $hdr_log"
    fi
    echo "$uapi_from" > "$stamp"
    dt_log "${tag}make headers_install: done, $(( $(date +%s) - hdr_start )) s after it started"
    uapi_ready
fi
grep -q '^#define IOMMU_IOAS_NOIOMMU_GET_PA\b' "$uapi/linux/iommufd.h" ||
    dt_die "installed $uapi/linux/iommufd.h lacks IOMMU_IOAS_NOIOMMU_GET_PA"

# Each change of fragment, tree or compiler leaves a build directory of
# about 280 MiB behind.
dt_keep_recent_builds "kernel build directories" linux "$build"

printf 'kernel_version=%s\nbzimage=%s\nboot=%s\nuapi=%s\nkernel_src=%s\n' \
    "$kernel_version" "$bzimage" "${boot:-$bzimage}" "$uapi" "$tree"

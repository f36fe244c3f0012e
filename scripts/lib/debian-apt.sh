# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# A private apt configuration that reaches every Debian suite (trixie, sid,
# experimental, deb-src included) without touching the machine's own apt
# sources.  Adding newer suites to /etc/apt at default priority would let
# `apt-get install` pull in their libc and drag the host half-way to another
# release; here they are only ever used for `apt-get source` and
# `apt-get download`, and nothing from them is installed.

DT_APT_DIR=$DT_CACHE/apt

# The Debian archive this machine's own apt sources use (the main archive,
# not the security one), so that the project works unchanged behind a
# local mirror; DMA_TESTDEV_DEBIAN_MIRROR overrides it.  Reads deb822
# *.sources files and one-line sources.list files.
dt_debian_mirror() {
    if [ -n "${DMA_TESTDEV_DEBIAN_MIRROR:-}" ]; then
        printf '%s\n' "${DMA_TESTDEV_DEBIAN_MIRROR%/}"
        return
    fi
    local f uri=
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        # The first URI of a stanza of Type "deb" whose Suites are not
        # only security ones.
        uri=$(awk '
            function flush() {
                if (deb && uris != "" && suites != "" &&
                    suites !~ /^( *[^ ]*-security)+ *$/) {
                    split(uris, u, " "); print u[1]; found = 1; exit
                }
                deb = 0; uris = ""; suites = ""
            }
            /^[ \t]*$/ { flush(); next }
            /^Types:/ { deb = ($0 ~ /[ \t]deb([ \t]|$)/) }
            /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
            /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
            END { if (!found) flush() }' "$f")
        [ -z "$uri" ] || break
    done
    if [ -z "$uri" ]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
                2> /dev/null |
            awk '$1 == "deb" {
                     i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                     if ($(i + 1) !~ /-security$/) { print $i; exit } }')
    fi
    [ -n "$uri" ] || dt_die "no Debian archive in this machine's apt" \
        "sources (/etc/apt/sources.list, /etc/apt/sources.list.d/): add" \
        "one, or set DMA_TESTDEV_DEBIAN_MIRROR=URL"
    printf '%s\n' "${uri%/}"
}
DT_DEBIAN_MIRROR=$(dt_debian_mirror)

dt_apt_private_setup() {
    mkdir -p "$DT_APT_DIR"/{lists/partial,archives/partial,sources.list.d,preferences.d}
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -r "$keyring" ] || dt_die "missing $keyring: apt-get install debian-archive-keyring"
    local want codename
    # The machine's own release too, deb-src only: the source of a package
    # installed from it (scripts/fetch-dpdk.sh: the installed DPDK's).
    codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
    [ -n "$codename" ] || dt_die "no VERSION_CODENAME in /etc/os-release: not Debian?"
    want=$(cat <<EOF
Types: deb deb-src
URIs: $DT_DEBIAN_MIRROR
Suites: trixie sid experimental
Components: main
Signed-By: $keyring

Types: deb-src
URIs: $DT_DEBIAN_MIRROR
Suites: $codename $codename-updates
Components: main
Signed-By: $keyring
EOF
)
    if [ ! -f "$DT_APT_DIR/sources.list.d/debian.sources" ] ||
       [ "$(cat "$DT_APT_DIR/sources.list.d/debian.sources")" != "$want" ]; then
        printf '%s\n' "$want" > "$DT_APT_DIR/sources.list.d/debian.sources"
        rm -f "$DT_APT_DIR/.updated"
    fi
    # Empty, and not written again: a new time on it makes apt rebuild its
    # caches (4 s).
    if [ ! -f "$DT_APT_DIR/sources.list" ] || [ -s "$DT_APT_DIR/sources.list" ]; then
        : > "$DT_APT_DIR/sources.list"
    fi
    # Refresh the private lists at most once a day: the archive moves, but a
    # test run should not pay for an update every time.
    if [ ! -f "$DT_APT_DIR/.updated" ] ||
       [ -n "$(find "$DT_APT_DIR/.updated" -mmin +1440)" ]; then
        # The gzip indexes, where apt takes xz by default: they are twice
        # the bytes but decompress in a third of the time, and the update
        # is the first step of every cold run, with one core idle (on an
        # empty cache: 7.5 s with xz, 4.8-5.8 s with gzip).
        dt_step "apt-get update (private: trixie, sid, experimental; $codename sources)" \
            dt_apt_private -o Acquire::CompressionTypes::Order::=gz update -qq
        touch "$DT_APT_DIR/.updated"
        rm -f "$DT_APT_DIR/unserved"
    fi
}

# The options that point apt at the private configuration.
dt_apt_private_opts() {
    DT_APT_OPTS=(
        -o "Dir::Etc::SourceList=$DT_APT_DIR/sources.list"
        -o "Dir::Etc::SourceParts=$DT_APT_DIR/sources.list.d"
        -o "Dir::Etc::Preferences=$DT_APT_DIR/preferences"
        -o "Dir::Etc::PreferencesParts=$DT_APT_DIR/preferences.d"
        -o "Dir::State::Lists=$DT_APT_DIR/lists"
        -o "Dir::Cache=$DT_APT_DIR"
        # Debian's container images turn apt's binary caches off
        # (apt.conf.d/docker-clean): every apt-cache call then parsed all
        # suites' lists again, 4 s each, three times in every test run.
        # Kept here, apt rebuilds them when the lists change.
        -o "Dir::Cache::pkgcache=pkgcache.bin"
        -o "Dir::Cache::srcpkgcache=srcpkgcache.bin"
    )
}

dt_apt_private() {
    dt_apt_private_opts
    apt-get "${DT_APT_OPTS[@]}" \
        -o "Dir::Cache::Archives=$DT_APT_DIR/archives" \
        -o "APT::Sandbox::User=root" \
        "$@"
}

# apt-cache sees sid's and experimental's package names only this way.
# Its answer depends on nothing but the private lists and configuration,
# so it is kept until they change (the next apt-get update): a query
# costs 0.3 s even with apt's binary caches, and a warm run asked three.
dt_apt_cache_private() {
    local state dir answer tmp
    dt_apt_private_opts
    # (A pattern that matches nothing is only a line stat complains about.)
    state=$( { stat -c '%n %s %Y' "$DT_APT_DIR"/lists/* "$DT_APT_DIR"/sources.list \
        "$DT_APT_DIR"/sources.list.d/* "$DT_APT_DIR"/preferences.d/* \
        2> /dev/null || true; } | sha256sum | cut -c1-16)
    dir=$DT_APT_DIR/answers/$state
    answer=$dir/$(printf '%s\n' "$@" | sha256sum | cut -c1-16)
    cat "$answer" 2> /dev/null && return 0
    if [ ! -d "$dir" ]; then
        # Answers about lists that are gone are never asked for again.
        rm -rf "$DT_APT_DIR/answers"
        mkdir -p "$dir"
    fi
    # Another run that pruned the directory under us costs only the keeping.
    tmp=$(mktemp "$answer.XXXXXX" 2> /dev/null) ||
        { apt-cache "${DT_APT_OPTS[@]}" "$@"; return; }
    if ! apt-cache "${DT_APT_OPTS[@]}" "$@" > "$tmp"; then
        rm -f "$tmp"
        return 1
    fi
    cat "$tmp"
    mv -f "$tmp" "$answer" 2> /dev/null || rm -f "$tmp"
}

# Every version of a package that a suite's index lists, newest first,
# epoch included, e.g. "qemu" "sid" "Sources" (or "Packages" for a binary
# package).  A moving suite such as sid may list several.
dt_apt_versions() {
    local pkg=$1 suite=$2 kind=$3 v sorted=() i
    while read -r v; do
        i=${#sorted[@]}
        while [ "$i" -gt 0 ] && dpkg --compare-versions "$v" gt "${sorted[i - 1]}"; do
            sorted[i]=${sorted[i - 1]}
            i=$((i - 1))
        done
        sorted[i]=$v
    done < <(dt_apt_cache_private madison "$pkg" |
        awk -F' *[|] *' -v p="$pkg" -v s="$suite" -v k="$kind" '
            { sub(/^ +/, "", $1) }
            $1 == p && index($3, " " s "/") && $3 ~ (" " k "$") { print $2 }')
    if [ ${#sorted[@]} -gt 0 ]; then
        printf '%s\n' "${sorted[@]}"
    fi
}

# Versions the mirror did not serve (PACKAGE=VERSION) are remembered until
# the next update of the private lists (dt_apt_private_setup clears
# them), so that each run does not ask again.
dt_apt_unserved() {
    grep -qxF "$1" "$DT_APT_DIR/unserved" 2> /dev/null
}

dt_apt_mark_unserved() {
    echo "$1" >> "$DT_APT_DIR/unserved"
}

# dt_linux_libc_dev VERSION DIR: DIR/include becomes the x86 UAPI headers
# of Debian's linux-libc-dev VERSION, laid out as make headers_install
# lays them out.  Debian's package is that command's output for every
# architecture at once: each architecture's asm/ is under
# usr/lib/linux/uapi/ARCH/, behind the multiarch directories' links, and
# here it is include/asm/.  Unpacked once into the cache.  Fails, without
# exiting, when the archive does not have the version (remembered until
# the next update of the private lists) or the package's layout is not
# this one.
dt_linux_libc_dev() {
    local version=$1 dir=$2 unpacked dl lock rc=0
    unpacked=$DT_CACHE/src/linux-libc-dev-$version
    if [ ! -f "$unpacked/.dt-complete" ]; then
        if dt_apt_unserved "linux-libc-dev=$version"; then
            return 1
        fi
        mkdir -p "$(dirname "$unpacked")"
        # The kernel variants build side by side: one unpacks at a time.
        exec {lock}> "$unpacked.lock"
        flock "$lock"
        if [ ! -f "$unpacked/.dt-complete" ]; then
            dl=$unpacked.dl
            rm -rf "$unpacked" "$dl"
            mkdir -p "$dl" "$unpacked"
            if ! (cd "$dl" && dt_apt_private -qq download "linux-libc-dev=$version") >&2; then
                dt_apt_mark_unserved "linux-libc-dev=$version"
                rc=1
            elif ! dpkg-deb -x "$dl"/linux-libc-dev_*.deb "$dl/root" ||
                [ ! -f "$dl/root/usr/include/linux/iommufd.h" ] ||
                [ ! -f "$dl/root/usr/lib/linux/uapi/x86/asm/unistd_64.h" ]; then
                dt_log "linux-libc-dev $version: not the layout this script knows"
                rc=1
            else
                cp -a "$dl/root/usr/include" "$unpacked/include"
                rm -rf "$unpacked"/include/*-linux-gnu*
                cp -a "$dl/root/usr/lib/linux/uapi/x86/asm" "$unpacked/include/asm"
                touch "$unpacked/.dt-complete"
            fi
            rm -rf "$dl"
            [ "$rc" -eq 0 ] || rm -rf "$unpacked"
        fi
        flock -u "$lock"
        exec {lock}>&-
        [ "$rc" -eq 0 ] || return 1
    fi
    # New files (cp without -a): what was compiled against the headers
    # before compiles again, as after headers_install.
    rm -rf "$dir/include"
    mkdir -p "$dir"
    cp -R "$unpacked/include" "$dir/include"
}

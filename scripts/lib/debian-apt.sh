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
DT_DEBIAN_MIRROR=${DMA_TESTDEV_DEBIAN_MIRROR:-http://deb.debian.org/debian}

dt_apt_private_setup() {
    mkdir -p "$DT_APT_DIR"/{lists/partial,archives/partial,sources.list.d,preferences.d}
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -r "$keyring" ] || dt_die "missing $keyring: apt-get install debian-archive-keyring"
    local want
    want=$(cat <<EOF
Types: deb deb-src
URIs: $DT_DEBIAN_MIRROR
Suites: trixie sid experimental
Components: main
Signed-By: $keyring
EOF
)
    if [ ! -f "$DT_APT_DIR/sources.list.d/debian.sources" ] ||
       [ "$(cat "$DT_APT_DIR/sources.list.d/debian.sources")" != "$want" ]; then
        printf '%s\n' "$want" > "$DT_APT_DIR/sources.list.d/debian.sources"
        rm -f "$DT_APT_DIR/.updated"
    fi
    : > "$DT_APT_DIR/sources.list"
    # Refresh the private lists at most once a day: the archive moves, but a
    # test run should not pay for an update every time.
    if [ ! -f "$DT_APT_DIR/.updated" ] ||
       [ -n "$(find "$DT_APT_DIR/.updated" -mmin +1440)" ]; then
        dt_step "apt-get update (private: trixie, sid, experimental)" \
            dt_apt_private update -qq
        touch "$DT_APT_DIR/.updated"
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
dt_apt_cache_private() {
    dt_apt_private_opts
    apt-cache "${DT_APT_OPTS[@]}" "$@"
}

# Newest version of a source package in a suite, e.g. "qemu" "trixie".
dt_apt_source_version() {
    local pkg=$1 suite=$2
    dt_apt_private -qq --print-uris source "$pkg/$suite" 2>/dev/null |
        awk -v p="${pkg}_" '$2 ~ /\.dsc$/ && index($2, p) == 1 {
            v = substr($2, length(p) + 1); sub(/\.dsc$/, "", v); print v }' | head -n1
}

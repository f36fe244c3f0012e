#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Print our VFIO selftests series (patches/linux/vfio-selftests) ready to
# send: each patch as git format-patch wrote it, with To: and Cc: headers
# from the kernel's own scripts/get_maintainer.pl run in the fetched tree,
# after checking that it applies to that tree and that checkpatch.pl
# --strict has nothing to say about it.  The cover letter goes to everyone
# any patch goes to.
#
# Usage: scripts/vfio-selftests-series.sh [--kernel-src DIR] [--out DIR]
#   --kernel-src DIR  Linux tree to check against (default: the one
#                     scripts/fetch-kernel.sh fetched)
#   --out DIR         write the patches there (for git send-email DIR/*)
#                     instead of printing them
# The kernel tree is only read.

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

ksrc='' out=''
while [ $# -gt 0 ]; do
    case $1 in
    --kernel-src | --out)
        [ $# -ge 2 ] || dt_die "$1 needs a value"
        if [ "$1" = --out ]; then out=$2; else ksrc=$2; fi
        shift 2 ;;
    -h | --help)
        sed -n '/^# Usage:/,/^# The kernel tree/p' "$0" | sed 's/^# \{0,1\}//' >&2
        exit 0 ;;
    *) dt_die "unknown argument '$1' (see --help)" ;;
    esac
done
[ -n "$ksrc" ] || ksrc=$("$DT_ROOT/scripts/fetch-kernel.sh")
for f in scripts/get_maintainer.pl scripts/checkpatch.pl MAINTAINERS; do
    [ -f "$ksrc/$f" ] || dt_die "--kernel-src $ksrc: no $f"
done
dir=$DT_ROOT/patches/linux/vfio-selftests
cover=$dir/0000-cover-letter.patch
mapfile -t series < <(find "$dir" -maxdepth 1 -name '[0-9][0-9][0-9][1-9]-*.patch' | sort)
if [ ! -f "$cover" ] || [ ${#series[@]} -eq 0 ]; then
    dt_die "no series in $dir"
fi

# It must apply: in a scratch copy of what it touches, never in the tree.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/tree"
while read -r f; do
    [ -f "$ksrc/$f" ] || continue
    mkdir -p "$tmp/tree/$(dirname "$f")"
    cp "$ksrc/$f" "$tmp/tree/$f"
done < <(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "${series[@]}" | sort -u)
for p in "${series[@]}"; do
    patch -d "$tmp/tree" -p1 --forward --batch --quiet < "$p" > /dev/null ||
        dt_die "$(basename "$p") does not apply to $ksrc"
done

# Clean under checkpatch --strict, run from the tree as the kernel does.
for p in "${series[@]}"; do
    if ! (cd "$ksrc" && perl scripts/checkpatch.pl --strict --quiet "$p") > "$tmp/cp" 2>&1; then
        cat "$tmp/cp" >&2
        dt_die "checkpatch.pl --strict: $(basename "$p") is not clean"
    fi
    dt_log "checkpatch.pl --strict: $(basename "$p"): clean"
done

# Recipients: maintainers and reviewers To:, lists Cc:.
recipients() {
    (cd "$ksrc" && perl scripts/get_maintainer.pl --no-git --no-git-fallback \
        --no-rolestats "$@")
}
to_of() { grep -v '@vger\.kernel\.org$\|^[^<]*@lists\.' || true; }
cc_of() { grep '@vger\.kernel\.org$\|^[^<]*@lists\.' || true; }

emit() {
    local p=$1 rcpt=$2 to cc
    to=$(to_of < "$rcpt" | paste -sd, - | sed 's/,/, /g')
    cc=$(cc_of < "$rcpt" | paste -sd, - | sed 's/,/, /g')
    # The headers go after the patch's own From: line.
    awk -v to="$to" -v cc="$cc" '
        !done && /^From: / {
            print
            if (to != "") print "To: " to
            if (cc != "") print "Cc: " cc
            done = 1
            next
        }
        { print }' "$p"
}

: > "$tmp/all"
for p in "${series[@]}"; do
    recipients "$p" > "$tmp/$(basename "$p").rcpt"
    cat "$tmp/$(basename "$p").rcpt" >> "$tmp/all"
done
sort -u "$tmp/all" > "$tmp/cover.rcpt"

[ -z "$out" ] || mkdir -p "$out"
for p in "$cover" "${series[@]}"; do
    name=$(basename "$p")
    rcpt=$tmp/$name.rcpt
    [ "$p" != "$cover" ] || rcpt=$tmp/cover.rcpt
    if [ -n "$out" ]; then
        emit "$p" "$rcpt" > "$out/$name"
    else
        emit "$p" "$rcpt"
    fi
done
[ -z "$out" ] || dt_log "series in $out: git send-email $out/*.patch"

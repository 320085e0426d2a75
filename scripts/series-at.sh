#!/usr/bin/env bash
# Stage: the series as it was at an earlier commit of this repository, for
# an A/B of two revisions of the series (kernel variant patched-at-REV).
#
# usage: series-at.sh REV
#
# Makes build/linux-patched-at-REV, a detached work tree of build/linux at
# the baseline with REV's patches/series applied by git am.  REV is a commit
# of this repository (a hash or any name git accepts; the directory keeps
# the name as given).  Nothing is done when the tree exists.  build-kernel.sh
# calls this for a patched-at-REV variant whose tree is missing, so
# 'KERNELS="patched patched-at-696d61d" scripts/bench.sh' builds both.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

rev=${1:?usage: series-at.sh REV}
# REV names directories and files (build/obj/FLAVOR-patched-at-REV, ...).
case "$rev" in
*[!A-Za-z0-9._-]*) die "REV '$rev': use a hash or a name of letters, digits, '.', '_' and '-'" ;;
esac
dest=$(src_dir "patched-at-$rev")

if [ -f "$dest/Makefile" ]; then
	log "patched-at-$rev: work tree exists: $dest"
	exit 0
fi
git -C "$MMSCALE_TOP" rev-parse -q --verify "$rev^{commit}" >/dev/null ||
	die "'$rev' is not a commit of $MMSCALE_TOP"
git_k rev-parse -q --verify refs/tags/mmscale-base >/dev/null ||
	die "no baseline in $KTREE: run scripts/get-source.sh first"
list=$(git -C "$MMSCALE_TOP" show "$rev:patches/series" 2>/dev/null) ||
	die "commit $rev has no patches/series"

rm -rf "$dest"
git_k worktree prune
git_k worktree add -q --detach "$dest" mmscale-base
n=0
while read -r p; do
	case "$p" in '' | '#'*) continue ;; esac
	if ! git -C "$MMSCALE_TOP" show "$rev:patches/$p" |
		git_in "$dest" am -q --keep-cr >"$LOG_DIR/git-am-at-$rev.log" 2>&1; then
		git_in "$dest" am --abort >/dev/null 2>&1 || true
		cat "$LOG_DIR/git-am-at-$rev.log" >&2
		git_k worktree remove --force "$dest"
		die "patch $p of $rev does not apply (log: $LOG_DIR/git-am-at-$rev.log)"
	fi
	n=$((n + 1))
done <<<"$list"
log "patched-at-$rev: $n patches of $rev applied in $dest"

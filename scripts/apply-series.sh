#!/usr/bin/env bash
# Stage: apply patches/series on top of the baseline with git am.
#
# Branch 'series' of build/linux is the baseline plus one commit per patch.
# Nothing is done when the branch already matches patches/ (same stamp).
# Local commits that 'make patches' has not exported are kept on a backup
# branch before the branch is rebuilt; a dirty tree stops the stage.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

PATCH_DIR=$MMSCALE_TOP/patches
STAMP=$BUILD_DIR/series.stamp

series_patches() {
	[ -f "$PATCH_DIR/series" ] || return 0
	grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$PATCH_DIR/series" || true
}

series_stamp() {
	{
		cat "$PATCH_DIR/series" 2>/dev/null || true
		series_patches | while read -r p; do cat "$PATCH_DIR/$p"; done
	} | sha256sum | cut -d' ' -f1
}

# The vanilla work tree (WITH_VANILLA=1) shares the repository and stays at
# the baseline.
add_vanilla() {
	if [ "${WITH_VANILLA:-0}" = 1 ] && [ ! -d "$(src_dir vanilla)" ]; then
		log "adding the vanilla work tree"
		git_k worktree add -q --detach "$(src_dir vanilla)" mmscale-base
	fi
}

git_k rev-parse -q --verify refs/tags/mmscale-base >/dev/null ||
	die "no baseline in $KTREE: run scripts/get-source.sh first"

want=$(series_stamp)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] &&
	[ "$(git_k rev-parse --abbrev-ref HEAD)" = series ]; then
	log "series already applied ($(git_k rev-list --count mmscale-base..series) patches)"
	add_vanilla
	exit 0
fi

[ -z "$(git_k status --porcelain --untracked-files=no)" ] ||
	die "$KTREE has uncommitted changes: commit them and run 'make patches', or discard them"

if git_k rev-parse -q --verify refs/heads/series >/dev/null &&
	[ "$(git_k rev-list --count mmscale-base..series)" -gt 0 ]; then
	backup="backup/$(date +%Y%m%d-%H%M%S)"
	git_k branch "$backup" series
	log "previous series branch kept as $backup"
fi
git_k checkout -q -B series mmscale-base

version=$(cat "$BUILD_DIR/kernel-version" 2>/dev/null || echo 6.1.y)
n=0
while read -r p; do
	[ -f "$PATCH_DIR/$p" ] || die "patches/series names $p, which does not exist"
	if ! git_k am -q --keep-cr "$PATCH_DIR/$p" >"$LOG_DIR/git-am.log" 2>&1; then
		git_k am --abort >/dev/null 2>&1 || true
		cat "$LOG_DIR/git-am.log" >&2
		die "patch $p does not apply to Linux $version (log: $LOG_DIR/git-am.log)"
	fi
	n=$((n + 1))
done < <(series_patches)
printf '%s\n' "$want" >"$STAMP"
log "applied $n patches to Linux $version"

add_vanilla

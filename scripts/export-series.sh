#!/usr/bin/env bash
# Stage: export the series from the kernel work tree into patches/.
#
# Every commit of branch 'series' on top of the baseline (tag mmscale-base)
# becomes one git format-patch file; the cover letter takes its subject
# and text from scripts/cover-letter.txt; patches/series lists the files in
# order.  The files in patches/ are generated: never edit them by hand.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

PATCH_DIR=$MMSCALE_TOP/patches
COVER=$MMSCALE_TOP/scripts/cover-letter.txt

git_k rev-parse -q --verify refs/tags/mmscale-base >/dev/null ||
	die "no kernel work tree at $KTREE: run 'make source' first"
[ "$(git_k rev-parse --abbrev-ref HEAD)" = series ] ||
	die "$KTREE is not on branch 'series'"
[ -z "$(git_k status --porcelain --untracked-files=no)" ] ||
	die "$KTREE has uncommitted changes: commit them first"

n=$(git_k rev-list --count mmscale-base..series)
subject=$(head -n 1 "$COVER")
total=$n
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "$n" -gt 0 ]; then
	# --zero-commit: the hashes of a work tree's commits differ between
	# machines (git am records the time); the patches do not.
	git_k format-patch -q --cover-letter --subject-prefix="PATCH 6.1.y" \
		--no-signature --zero-commit -o "$tmp" mmscale-base..series
	# Fill the cover letter's placeholders from scripts/cover-letter.txt.
	python3 - "$tmp/0000-cover-letter.patch" "$COVER" <<'PY'
import sys
path, cover = sys.argv[1], sys.argv[2]
lines = open(cover).read().split("\n", 1)
subject, body = lines[0], lines[1].lstrip("\n") if len(lines) > 1 else ""
text = open(path).read()
text = text.replace("*** SUBJECT HERE ***", subject)
text = text.replace("*** BLURB HERE ***", body.rstrip("\n"))
open(path, "w").write(text)
PY
else
	{
		printf 'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n'
		printf 'From: %s <%s>\n' "$(git_k config user.name || echo mmscale)" \
			"$(git_k config user.email || echo mmscale@localhost)"
		printf 'Date: %s\n' "$(date -R)"
		printf 'Subject: [PATCH 6.1.y 0/%d] %s\n\n' "$total" "$subject"
		tail -n +2 "$COVER" | sed '1{/^$/d}'
		printf '\n'
	} >"$tmp/0000-cover-letter.patch"
fi

rm -f "$PATCH_DIR"/*.patch
mkdir -p "$PATCH_DIR"
cp "$tmp"/*.patch "$PATCH_DIR/"
{
	printf '# mmscale series (applied in order by scripts/apply-series.sh)\n'
	for f in "$PATCH_DIR"/[0-9][0-9][0-9][0-9]-*.patch; do
		case "${f##*/}" in 0000-cover-letter.patch) ;; *) printf '%s\n' "${f##*/}" ;; esac
	done
} >"$PATCH_DIR/series"
# The exported series is what the work tree now holds.
"$MMSCALE_TOP/scripts/apply-series.sh" >/dev/null 2>&1 || true
log "exported $n patches (+ cover letter) to $PATCH_DIR"

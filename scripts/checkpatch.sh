#!/usr/bin/env bash
# Stage: scripts/checkpatch.pl --strict over every patch of the series.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

PATCH_DIR=$MMSCALE_TOP/patches
[ -x "$KTREE/scripts/checkpatch.pl" ] || die "no kernel work tree: run 'make source' first"
mapfile -t patches < <(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$PATCH_DIR/series" || true)
if [ ${#patches[@]} -eq 0 ]; then
	log "the series has no patches yet"
	exit 0
fi
bad=0
for p in "${patches[@]}"; do
	if (cd "$KTREE" && perl scripts/checkpatch.pl --strict --no-summary --quiet \
		"$PATCH_DIR/$p"); then
		log "$p: clean"
	else
		bad=$((bad + 1))
	fi
done
[ "$bad" = 0 ] || die "$bad of ${#patches[@]} patches have checkpatch --strict findings"
log "all ${#patches[@]} patches pass checkpatch --strict"

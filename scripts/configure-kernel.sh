#!/usr/bin/env bash
# Stage: configure one kernel build (FLAVOR VARIANT) from configs/.
#
# allnoconfig + configs/base.config + configs/FLAVOR.config (+ any extra
# fragments named in EXTRA_CONFIGS), merged with the tree's own
# scripts/kconfig/merge_config.sh.  Every requested option is then checked
# against the final .config: Kconfig silently drops options whose
# dependencies are missing, and this stage fails loudly instead.
# Does nothing when the fragments have not changed since the last run.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

flavor=${1:?usage: configure-kernel.sh FLAVOR VARIANT}
variant=${2:?usage: configure-kernel.sh FLAVOR VARIANT}
check_flavor "$flavor"
src=$(src_dir "$variant")
obj=$(obj_dir "$flavor" "$variant")
[ -f "$src/Makefile" ] || die "no source tree for '$variant' at $src"

fragments=("$MMSCALE_TOP/configs/base.config" "$MMSCALE_TOP/configs/$flavor.config")
# configs/series.config (all flavors) and configs/series-FLAVOR.config:
# options that the series adds.  Applied to the patched tree only, and only
# the options that the tree defines, so that a series that does not (yet)
# add one still configures.
case "$variant" in patched | patched-range | patched-at-*) with_series=1 ;; *) with_series=0 ;; esac
if [ "$with_series" = 1 ]; then
	series_frag=$BUILD_DIR/series-$flavor-$variant.config
	mkdir -p "$BUILD_DIR"
	: >"$series_frag"
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*) sym=${line%%=*} ;;
		*) continue ;;
		esac
		if grep -rqsx --include='Kconfig*' "config ${sym#CONFIG_}" "$src/mm" "$src/kernel" "$src/lib" "$src/arch/x86"; then
			printf '%s\n' "$line" >>"$series_frag"
		else
			log "series option $sym not defined by this tree: skipped"
		fi
	done < <(cat "$MMSCALE_TOP/configs/series.config" \
		"$MMSCALE_TOP/configs/series-$flavor.config" 2>/dev/null || true
		[ "$variant" != patched-range ] || cat "$MMSCALE_TOP/configs/series-range.config")
	fragments+=("$series_frag")
fi
for f in ${EXTRA_CONFIGS:-}; do
	fragments+=("$f")
done
stamp=$(cat "${fragments[@]}" | sha256sum | cut -d' ' -f1)
if [ -f "$obj/.config" ] && [ "$(cat "$obj/.config.mmscale" 2>/dev/null)" = "$stamp" ]; then
	log "$flavor-$variant: configuration up to date"
	exit 0
fi

mkdir -p "$obj"
log "$flavor-$variant: merging ${fragments[*]##*/} on allnoconfig"
run_logged "$LOG_DIR/config-$flavor-$variant.log" \
	env KCONFIG_CONFIG="$obj/.config" ARCH=x86_64 \
	"$src/scripts/kconfig/merge_config.sh" -n -m -O "$obj" "${fragments[@]}"
# merge_config.sh -m only merges; let Kconfig resolve it from allnoconfig.
run_logged "$LOG_DIR/config-$flavor-$variant.log" \
	make -C "$src" O="$obj" ARCH=x86_64 KCONFIG_ALLCONFIG="$obj/.config" allnoconfig

# Verify: each CONFIG_X=v must be in .config verbatim, each "is not set"
# must not be set.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF -- "$line" "$obj/.config" || {
			log "requested '$line', got '$(grep -E "^(# )?${line%%=*}[= ]" "$obj/.config" || echo 'nothing')'"
			bad=1
		}
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		if grep -qE "^$opt=" "$obj/.config"; then
			log "requested '$line', got '$(grep -E "^$opt=" "$obj/.config")'"
			bad=1
		fi
		;;
	esac
done < <(cat "${fragments[@]}")
[ "$bad" = 0 ] || die "$flavor-$variant: Kconfig dropped requested options (see above; log: $LOG_DIR/config-$flavor-$variant.log)"
printf '%s\n' "$stamp" >"$obj/.config.mmscale"
log "$flavor-$variant: configured, all $(grep -c '^CONFIG_\|^# CONFIG_' "${fragments[@]}" | awk -F: '{s+=$2} END {print s}') requested options verified"

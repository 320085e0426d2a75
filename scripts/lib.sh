# shellcheck shell=bash
# Common helpers for the mmscale pipeline scripts.  Source it; do not run it.

MMSCALE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$MMSCALE_TOP/build}
KTREE=${KTREE:-$BUILD_DIR/linux}
OBJ_ROOT=${OBJ_ROOT:-$BUILD_DIR/obj}
LOG_DIR=${LOG_DIR:-$BUILD_DIR/logs}
JOBS=${JOBS:-$(nproc)}
STAGE=${STAGE:-$(basename "$0" .sh)}
mkdir -p "$LOG_DIR"

# ccache's own default cache (~/.cache/ccache) is shared by every clone;
# with the base directory set, paths inside the clone hash alike.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$MMSCALE_TOP}

log() {
	printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$STAGE" "$*" >&2
}

die() {
	printf '[%s %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$STAGE" "$*" >&2
	exit 1
}

# run_logged LOGFILE CMD...: run CMD with its output in LOGFILE; on failure
# show the tail of the log and name the stage.
run_logged() {
	local logfile=$1
	shift
	mkdir -p "$(dirname "$logfile")"
	if ! "$@" >"$logfile" 2>&1; then
		tail -n 40 "$logfile" >&2
		die "'$*' failed; full log: $logfile"
	fi
}

# git_in DIR ARGS...: git in the work tree DIR, with the identity that the
# pipeline's own commits carry (the baseline, git am of the series).
git_in() {
	local dir=$1
	shift
	git -C "$dir" -c user.name=mmscale -c user.email=mmscale@localhost "$@"
}

# git_k ARGS...: git in the kernel work tree.
git_k() {
	git_in "$KTREE" "$@"
}

# obj_dir FLAVOR VARIANT: the O= directory of one kernel build.
obj_dir() {
	printf '%s/%s-%s\n' "$OBJ_ROOT" "$1" "$2"
}

# src_dir VARIANT: the source tree of a variant.  patched-at-REV is the
# series as it was at commit REV of this repository (scripts/series-at.sh).
src_dir() {
	case "$1" in
	patched | patched-range) printf '%s\n' "$KTREE" ;;
	vanilla) printf '%s\n' "$BUILD_DIR/linux-vanilla" ;;
	v6.12) printf '%s\n' "$BUILD_DIR/linux-6.12" ;;
	patched-at-?*) printf '%s\n' "$BUILD_DIR/linux-$1" ;;
	*) die "unknown kernel variant '$1' (patched, patched-range, vanilla, v6.12, patched-at-REV)" ;;
	esac
}

# copy_libs ROOT BINARY: the shared libraries of a dynamically linked
# program, at their paths under the image root ROOT.
copy_libs() {
	local lib
	for lib in $(ldd "$2" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$1$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$1$lib"
	done
}

# copy_with_libs ROOT BINARY DEST: a program as ROOT/DEST, and its libraries.
copy_with_libs() {
	install -D -m 0755 "$2" "$1$3"
	copy_libs "$1" "$2"
}

# perf_binary: the host's perf program (the file /usr/bin/perf leads to).
perf_binary() {
	local perf
	perf=$(command -v perf) || die "perf missing: scripts/install-deps.sh"
	readlink -f "$perf"
}

check_flavor() {
	case "$1" in
	debug | perf) ;;
	*) die "unknown flavor '$1' (debug, perf)" ;;
	esac
}

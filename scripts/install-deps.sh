#!/usr/bin/env bash
# Stage: install the Debian packages the pipeline needs (idempotent).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

PACKAGES=(
	build-essential flex bison bc libelf-dev libssl-dev dwarves cpio
	xz-utils rsync kmod ccache git python3 perl
	qemu-system-x86 busybox-static linux-source-6.1 linux-perf
	cmake libgtest-dev libnuma-dev libcap-dev gnuplot-nox shellcheck
	clang-format python3-ply python3-git
)
# The 6.12 baseline is only needed by the benchmark.
if [ "${WITH_612:-0}" = 1 ]; then
	PACKAGES+=(linux-source-6.12)
fi

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	log "all ${#PACKAGES[@]} packages present"
	exit 0
fi
[ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}) and not root: install them with apt-get"
log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
run_logged "$LOG_DIR/apt-update.log" apt-get update -q
run_logged "$LOG_DIR/apt-install.log" apt-get install -y -q --no-install-recommends "${missing[@]}"
log "done"

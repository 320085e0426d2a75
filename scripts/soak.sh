#!/usr/bin/env bash
# 'make soak DURATION=seconds': the debug kernel with the series runs the
# torture tool, the kselftests and locktorture in a loop for DURATION
# seconds with swap on zram under memory pressure (scripts/guest/soak.sh),
# then fails on any verification error or any splat in the kernel log.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

duration=${DURATION:-1800}
case "$duration" in '' | *[!0-9]*) die "DURATION must be a number of seconds, not '$duration'" ;; esac
GUEST_JOB=soak APPEND="mmscale.duration=$duration ${APPEND:-}" \
	TIMEOUT=$((duration + 1800)) HOST_TESTS=0 \
	RESULTS=${RESULTS:-$MMSCALE_TOP/results/soak-$(date +%Y%m%d-%H%M%S)} \
	exec "$MMSCALE_TOP/scripts/check.sh"

#!/usr/bin/env bash
# Build the guest instruction counter for QEMU TCG (tools/qemu-insn/):
#   build/qemu-insn/libinsn.so   the QEMU plugin (insn.c), for boot-qemu.sh's
#                                QEMU_PLUGIN_OUT=PATH or
#                                qemu-system-x86_64 -plugin libinsn.so,out=PATH
#   build/qemu-insn/insn-mark    the guest's marker program (mark.c, static):
#                                each run appends a "mark" line to PATH
# Fetches QEMU's plugin header first (scripts/get-qemu-plugin-header.sh,
# which does nothing when it is already there).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

src=$MMSCALE_TOP/tools/qemu-insn
out=$BUILD_DIR/qemu-insn
hdrdir=$BUILD_DIR/qemu-plugin

"$MMSCALE_TOP/scripts/get-qemu-plugin-header.sh"
[ -f "$hdrdir/qemu-plugin.h" ] || die "no $hdrdir/qemu-plugin.h"

# QEMU 7.2's header needs only the C library; newer ones include <glib.h>.
cflags=(-O2 -Wall -Wextra -Werror -fPIC -I "$hdrdir")
if grep -q '#include <glib.h>' "$hdrdir/qemu-plugin.h"; then
	if ! pkg-config --exists glib-2.0 2>/dev/null; then
		log "qemu-plugin.h includes glib.h: installing libglib2.0-dev"
		apt-get install -y -q libglib2.0-dev >/dev/null ||
			die "apt-get install libglib2.0-dev failed"
	fi
	read -r -a glib <<<"$(pkg-config --cflags glib-2.0)"
	cflags+=("${glib[@]}")
fi

mkdir -p "$out"
log "building $out/libinsn.so"
gcc -shared "${cflags[@]}" -o "$out/libinsn.so.tmp" "$src/insn.c" -lpthread
mv "$out/libinsn.so.tmp" "$out/libinsn.so"

log "building $out/insn-mark"
gcc -static -O2 -Wall -Wextra -Werror -o "$out/insn-mark.tmp" "$src/mark.c"
mv "$out/insn-mark.tmp" "$out/insn-mark"
# The marker's bytes must be in the program as they are in mark.c.
objdump -d "$out/insn-mark" | grep '66 87 db' >/dev/null ||
	die "$out/insn-mark lacks the marker instruction 66 87 db"

# The plugin must load into this QEMU: a machine that stops at once.
log "checking that qemu-system-x86_64 loads the plugin"
probe=$(mktemp /tmp/insn-probe.XXXXXX)
trap 'rm -f "$probe"' EXIT
if ! timeout 60 qemu-system-x86_64 -machine none -accel tcg -display none \
	-plugin "$out/libinsn.so,out=$probe" -S -monitor stdio >/dev/null 2>"$probe.err" <<<'quit'; then
	cat "$probe.err" >&2
	rm -f "$probe.err"
	die "qemu-system-x86_64 does not load $out/libinsn.so"
fi
rm -f "$probe.err"
grep -q '^exit insns 0 ' "$probe" || die "the plugin wrote no exit line: $(cat "$probe")"
log "done: $out/libinsn.so, $out/insn-mark"

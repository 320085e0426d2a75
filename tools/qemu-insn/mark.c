// SPDX-License-Identifier: GPL-2.0
/*
 * mark.c - insn-mark: execute the marker instruction of the insn plugin
 * (tools/qemu-insn/insn.c) once and exit 0.  Run in a guest booted with
 * QEMU_PLUGIN_OUT=PATH, it appends a "mark" line with the instruction
 * counts to PATH; without the plugin it does nothing.
 */

int main(void)
{
	/* xchg %bx,%bx, spelled as bytes so that no assembler re-encodes it. */
	asm volatile(".byte 0x66, 0x87, 0xdb" : : : "memory");
	return 0;
}

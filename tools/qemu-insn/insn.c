// SPDX-License-Identifier: GPL-2.0
/*
 * insn.c - a QEMU TCG plugin that counts the guest's executed instructions
 * per vCPU, for guests with several vCPUs (MTTCG), where -icount cannot be
 * used, on hosts without a PMU.
 *
 *   qemu-system-x86_64 ... -plugin build/qemu-insn/libinsn.so,out=PATH
 *
 * Every translation block gets an execution callback that adds the block's
 * instruction count to the counter of the vCPU that runs it.  Every guest
 * instruction whose bytes are 66 87 db (xchg %bx,%bx, Bochs' magic
 * breakpoint, a no-op) gets an execution callback too: each time one runs,
 * a line goes to PATH:
 *
 *   mark <n> insns <total> vcpu0 <count> vcpu1 <count> ...
 *
 * n counts the marks from 0; total is the sum of the per-vCPU counts that
 * follow, read at that moment (the other vCPUs keep running).  When QEMU
 * exits, a last line:
 *
 *   exit insns <total> vcpu0 <count> ...
 *
 * The difference between two marks' totals is the number of instructions
 * that all vCPUs executed between them: user and kernel, interrupts and
 * the idle loop included.
 *
 * Precision: a block is counted when it starts, so a block left early (an
 * exception, such as a page fault, in its middle) counts its instructions
 * that did not run, and the instruction that faulted runs again later.
 * TCG takes interrupts only between blocks.  A mark's own block is counted
 * whole, including the instructions after the mark.
 *
 * With prof=PROFILE as well, the plugin also counts, per translation
 * block, the instructions executed between an even-numbered mark and the
 * next (mark 0 to mark 1, mark 2 to mark 3, ...), on all vCPUs, and writes
 * them to PROFILE at exit, one line per block address:
 *
 *   <guest vaddr in hex> <instructions>
 *
 * scripts/insn-profile.py turns that into instructions per kernel function
 * (System.map).  A block is attributed to the address it starts at; a
 * function's count is exact up to the precision above.
 *
 * Written against QEMU 7.2's plugin API (QEMU_PLUGIN_VERSION 1); the header
 * comes from scripts/get-qemu-plugin-header.sh.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define CACHELINE 64

/*
 * One counter per vCPU, each on a cache line of its own so that vCPU
 * threads do not share one.  Only the thread of vCPU i writes slot i (under
 * MTTCG each vCPU has its own thread; with round-robin TCG a single thread
 * runs them all), so a plain load and store cannot lose an update; the
 * accesses are atomic (relaxed) only so that a reader on another thread
 * sees whole values.
 */
struct vcpu_count {
	uint64_t insns;
} __attribute__((aligned(CACHELINE)));

static struct vcpu_count *counts;
static unsigned int nr_vcpus;

/* One snapshot of the counters for a line of output, under out_lock. */
static uint64_t *snap;

/* The marker: xchg %bx,%bx. */
static const uint8_t marker[] = { 0x66, 0x87, 0xdb };

/* Output file; out_lock serialises its lines and numbers the marks. */
static FILE *out;
static const char *out_path;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long nr_marks;

/*
 * The profile: one record per translated block, kept on a list (a block
 * translated again gets a second record, and the file a second line, which
 * scripts/insn-profile.py adds to the first).  prof_on is set between an
 * even mark and the next one.
 */
struct tb_prof {
	uint64_t vaddr;
	uint64_t insns;
	uint32_t n;
	struct tb_prof *next;
};

static const char *prof_path;
static struct tb_prof *prof_list;
static pthread_mutex_t prof_lock = PTHREAD_MUTEX_INITIALIZER;
static int prof_on;

/* Called at the start of every executed block; udata is its length. */
static void tb_exec(unsigned int vcpu, void *udata)
{
	uint64_t n;

	if (vcpu >= nr_vcpus)
		return;
	n = __atomic_load_n(&counts[vcpu].insns, __ATOMIC_RELAXED);
	__atomic_store_n(&counts[vcpu].insns, n + (uintptr_t)udata,
			 __ATOMIC_RELAXED);
}

/* Called at the start of every executed block when profiling. */
static void tb_exec_prof(unsigned int vcpu, void *udata)
{
	struct tb_prof *tp = udata;

	tb_exec(vcpu, (void *)(uintptr_t)tp->n);
	if (__atomic_load_n(&prof_on, __ATOMIC_RELAXED))
		__atomic_fetch_add(&tp->insns, tp->n, __ATOMIC_RELAXED);
}

/*
 * print_counts - write " insns <total> vcpu0 <n> ..." and a newline.
 * Takes one snapshot of the counters, so that total is their sum.
 * Called with out_lock held.
 */
static void print_counts(void)
{
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < nr_vcpus; i++) {
		snap[i] = __atomic_load_n(&counts[i].insns, __ATOMIC_RELAXED);
		total += snap[i];
	}
	fprintf(out, " insns %" PRIu64, total);
	for (i = 0; i < nr_vcpus; i++)
		fprintf(out, " vcpu%u %" PRIu64, i, snap[i]);
	fputc('\n', out);
	fflush(out);
}

/* Called before each execution of a marker instruction. */
static void mark_exec(unsigned int vcpu, void *udata)
{
	(void)vcpu;
	(void)udata;

	pthread_mutex_lock(&out_lock);
	if (out) {
		fprintf(out, "mark %lu", nr_marks);
		print_counts();
		__atomic_store_n(&prof_on, !(nr_marks & 1), __ATOMIC_RELAXED);
		nr_marks++;
	}
	pthread_mutex_unlock(&out_lock);
}

static bool is_marker(const struct qemu_plugin_insn *insn)
{
	return qemu_plugin_insn_size(insn) == sizeof(marker) &&
	       !memcmp(qemu_plugin_insn_data(insn), marker, sizeof(marker));
}

/* Called once per translated block: instrument it. */
static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);
	size_t i;

	(void)id;
	if (prof_path) {
		struct tb_prof *tp = calloc(1, sizeof(*tp));

		if (!tp) {
			fprintf(stderr, "insn: out of memory\n");
			abort();
		}
		tp->vaddr = qemu_plugin_tb_vaddr(tb);
		tp->n = n;
		pthread_mutex_lock(&prof_lock);
		tp->next = prof_list;
		prof_list = tp;
		pthread_mutex_unlock(&prof_lock);
		qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec_prof,
						     QEMU_PLUGIN_CB_NO_REGS, tp);
	} else {
		qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec,
						     QEMU_PLUGIN_CB_NO_REGS,
						     (void *)(uintptr_t)n);
	}
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		if (is_marker(insn))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, mark_exec,
							       QEMU_PLUGIN_CB_NO_REGS,
							       NULL);
	}
}

/* Write the blocks that ran while profiling: "<vaddr> <insns>" lines. */
static void write_profile(void)
{
	struct tb_prof *tp;
	FILE *f = fopen(prof_path, "w");

	if (!f) {
		fprintf(stderr, "insn: %s: %s\n", prof_path, strerror(errno));
		return;
	}
	pthread_mutex_lock(&prof_lock);
	for (tp = prof_list; tp; tp = tp->next)
		if (tp->insns)
			fprintf(f, "%" PRIx64 " %" PRIu64 "\n", tp->vaddr,
				tp->insns);
	pthread_mutex_unlock(&prof_lock);
	if (fclose(f))
		fprintf(stderr, "insn: %s: %s\n", prof_path, strerror(errno));
}

static void at_exit(qemu_plugin_id_t id, void *udata)
{
	(void)id;
	(void)udata;

	if (prof_path)
		write_profile();

	pthread_mutex_lock(&out_lock);
	if (out) {
		fputs("exit", out);
		print_counts();
		if (fclose(out))
			fprintf(stderr, "insn: %s: %s\n", out_path,
				strerror(errno));
		out = NULL;
	}
	pthread_mutex_unlock(&out_lock);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info, int argc,
					   char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4) && argv[i][4]) {
			out_path = argv[i] + 4;
		} else if (!strncmp(argv[i], "prof=", 5) && argv[i][5]) {
			prof_path = argv[i] + 5;
		} else {
			fprintf(stderr, "insn: unknown argument '%s' (want out=PATH or prof=PATH)\n",
				argv[i]);
			return -1;
		}
	}
	if (!out_path) {
		fprintf(stderr, "insn: no output file: want out=PATH\n");
		return -1;
	}
	if (!info->system_emulation) {
		fprintf(stderr, "insn: only system emulation is supported\n");
		return -1;
	}

	/* Slots for every vCPU the machine may have, hot-plugged ones too. */
	nr_vcpus = info->system.max_vcpus > 0 ? info->system.max_vcpus : 1;
	counts = aligned_alloc(CACHELINE, nr_vcpus * sizeof(*counts));
	if (!counts) {
		fprintf(stderr, "insn: out of memory\n");
		return -1;
	}
	memset(counts, 0, nr_vcpus * sizeof(*counts));
	snap = calloc(nr_vcpus, sizeof(*snap));
	if (!snap) {
		fprintf(stderr, "insn: out of memory\n");
		free(counts);
		return -1;
	}

	out = fopen(out_path, "w");
	if (!out) {
		fprintf(stderr, "insn: %s: %s\n", out_path, strerror(errno));
		free(snap);
		free(counts);
		return -1;
	}

	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}

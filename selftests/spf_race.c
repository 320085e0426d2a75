// SPDX-License-Identifier: GPL-2.0
/*
 * Page faults racing with changes of their VMA: nothing stale survives the
 * change, no data is lost.
 *
 * Faulting threads hammer random pages of a region while the main thread
 * munmaps, mprotects, mremaps or pages out that region.  Once the change
 * returned and the faulters acknowledged it (so no access of theirs is in
 * flight any more), the old state must be gone entirely:
 *  - munmap: a new mapping at the same address reads as zeroes (a PTE that
 *    a fault installed after the unmap would show the old data);
 *  - mprotect(PROT_READ/PROT_NONE): every write (every access) SIGSEGVs;
 *  - mremap: the old range, mapped again, reads as zeroes; the moved data
 *    holds only what was written;
 *  - pageout and fork: each faulter's pages hold the last value it wrote,
 *    across swap-out/in and copy-on-write against a forked child;
 *  - merge: the region is split in two VMAs by unmapping a hole in its
 *    middle, then the hole is mapped again and made writable, which
 *    merges the three into one and frees the upper VMA while faults in
 *    it are in flight (vma_merge() clears the anon_vma of the VMA it
 *    removes, without taking any PTE lock); the region is one VMA again
 *    and holds only zeroes and marks.
 *
 * These races are what the speculative page fault path must get right (it
 * installs PTEs without mmap_lock); on a kernel without it they check the
 * classic path.  /proc/vmstat's spf_* counters, when present, show that
 * the speculative path ran.
 *
 * The "declined" tests check the other side: the faults in an mlocked VMA,
 * in a stack VMA (MAP_GROWSDOWN), in a private mapping of /dev/zero (an
 * anonymous VMA with a file), in a VMA with a memory policy, and those of a
 * task whose policy interleaves must never finish speculatively, and must
 * be counted under their abort reason.
 *
 * neighbour_split checks progress: splitting a VMA must not hold up the
 * speculative faults of the VMA next to it, which the split leaves alone.
 * own_split_end and own_split_middle split and merge the VMA the faults are
 * in, at its end page and at its middle page, which leaves every faulting
 * address mapped as it was, but some of them in a new VMA for a while: a
 * fault that meets a split waits for it and goes on speculatively
 * (spf_wait, spf_rebase), and must commit to the VMA that holds its
 * address by then.  No write may be lost.  own_split_zero_cow and
 * own_split_fork_cow do the same with copy-on-write faults, of the zero
 * page and of pages a child shares, which must keep the child's values;
 * own_split_fork_reuse with write-protect faults that reuse their page,
 * once the child that shared it has gone, and own_split_swap_in with
 * swap-in faults.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mmscale_util.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#ifndef MPOL_DEFAULT
#define MPOL_DEFAULT	0
#define MPOL_BIND	2
#define MPOL_INTERLEAVE	3
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT	1
#endif

#define NR_FAULTERS	2
#define REGION_PAGES	64
#define ROUNDS		300
#define MARK		0x5a
/* OP_MERGE: the hole's first page and length, splits per round, rounds. */
#define HOLE_PAGE	(REGION_PAGES / 4)
#define HOLE_PAGES	2
#define MERGES		4
#define MERGE_ROUNDS	100

enum race_op { OP_MUNMAP, OP_PROT_READ, OP_PROT_NONE, OP_MREMAP, OP_PAGEOUT,
	       OP_FORK, OP_MERGE };

struct race {
	char *region;		/* where the faulters access */
	size_t len;
	bool owned;		/* faulters write counters to their own pages */
	atomic_uint gen;	/* odd: stop accessing and acknowledge */
	atomic_uint acked;
	atomic_bool quit;
	atomic_bool lost;	/* an owned page lost a write */
};

static __thread sigjmp_buf access_jmp;
static __thread volatile sig_atomic_t in_access;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	if (in_access)
		siglongjmp(access_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Write @val at @p; false if it SIGSEGVed. */
static bool try_write(volatile char *p, char val)
{
	if (sigsetjmp(access_jmp, 1)) {
		in_access = 0;
		return false;
	}
	in_access = 1;
	*p = val;
	in_access = 0;
	return true;
}

/* Read @p into @val; false if it SIGSEGVed. */
static bool try_read(volatile char *p, char *val)
{
	if (sigsetjmp(access_jmp, 1)) {
		in_access = 0;
		return false;
	}
	in_access = 1;
	*val = *p;
	in_access = 0;
	return true;
}

struct faulter_arg {
	struct race *r;
	unsigned int id;
};

static void *faulter_fn(void *arg)
{
	struct faulter_arg *a = arg;
	struct race *r = a->r;
	unsigned int seed = a->id * 7919 + (unsigned int)now_ns();
	unsigned int acked_gen = 0;
	uint64_t last[REGION_PAGES] = { 0 };	/* what we last wrote */

	while (!atomic_load(&r->quit)) {
		unsigned int g = atomic_load(&r->gen);
		size_t page = rand_r(&seed) % REGION_PAGES;
		volatile uint64_t *w;

		if (g & 1) {
			if (acked_gen != g) {
				acked_gen = g;
				atomic_fetch_add(&r->acked, 1);
			}
			sched_yield();
			continue;
		}
		if (!r->owned) {
			try_write(r->region + page * PAGE_SZ + page, MARK);
			continue;
		}
		/* Pages id, id + NR_FAULTERS, ... are this thread's. */
		page -= page % NR_FAULTERS;
		page += a->id;
		if (page >= REGION_PAGES)
			continue;
		w = (volatile uint64_t *)(r->region + page * PAGE_SZ);
		if (w[1] != last[page] || w[2] != last[page]) {
			atomic_store(&r->lost, true);
			continue;
		}
		last[page]++;
		w[1] = last[page];
		w[2] = last[page];
	}
	return NULL;
}

/* Stop the faulters: on return none of them is inside an access. */
static void faulters_pause(struct race *r)
{
	atomic_store(&r->acked, 0);
	atomic_fetch_add(&r->gen, 1);
	while (atomic_load(&r->acked) < NR_FAULTERS)
		sched_yield();
}

static void faulters_resume(struct race *r)
{
	atomic_fetch_add(&r->gen, 1);
}

/* A fresh region at @addr (anywhere if NULL), its first page touched. */
static char *map_region(void *addr, size_t len)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	char *p;

	if (addr)
		flags |= MAP_FIXED_NOREPLACE;
	p = mmap(addr, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (addr && p != addr) {
		munmap(p, len);
		return NULL;
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	/* An anon_vma and a page table, so that faults can go speculative. */
	p[0] = 0;
	return p;
}

/* Every byte of [p, p + len) is zero, or (if @marks) a faulter's mark. */
static bool only_zero(const char *p, size_t len, bool marks)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] && !(marks && p[i] == MARK && i % PAGE_SZ ==
			      i / PAGE_SZ % PAGE_SZ))
			return false;
	return true;
}

/*
 * Split the region at a hole and merge it again, MERGES times, each time
 * with the upper part emptied so that the faulters fault in the VMA that
 * the merge removes.  The upper part is the larger, so most faults land
 * there.
 */
static bool split_and_merge(struct race *r, const char **why)
{
	char *hole = r->region + HOLE_PAGE * PAGE_SZ;
	char *upper = hole + HOLE_PAGES * PAGE_SZ;
	size_t upper_len = r->region + r->len - upper;
	int i;

	for (i = 0; i < MERGES; i++) {
		if (munmap(hole, HOLE_PAGES * PAGE_SZ)) {
			*why = "cannot unmap the hole";
			return false;
		}
		madvise(upper, upper_len, MADV_DONTNEED);
		sched_yield();
		/*
		 * The hole comes back PROT_NONE, so that no fault gives it an
		 * anon_vma of its own, and takes its neighbours' flags; then
		 * mprotect() merges the three VMAs into one.
		 */
		if (mmap(hole, HOLE_PAGES * PAGE_SZ, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			 -1, 0) != hole) {
			*why = "cannot map the hole again";
			return false;
		}
		madvise(hole, HOLE_PAGES * PAGE_SZ, MADV_NOHUGEPAGE);
		if (mprotect(hole, HOLE_PAGES * PAGE_SZ,
			     PROT_READ | PROT_WRITE)) {
			*why = "mprotect of the hole failed";
			return false;
		}
	}
	return true;
}

/* [p, p + len) is one VMA, as /proc/self/maps shows it. */
static bool one_vma(const char *p, size_t len)
{
	unsigned long start, end;
	bool found = false;
	char line[256];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &start, &end) == 2 &&
		    start == (unsigned long)p)
			found = end == (unsigned long)p + len;
	fclose(f);
	return found;
}

/* One round of @op; false with a message in @why if a check failed. */
static bool race_round(struct race *r, enum race_op op, char *spare,
		       const char **why)
{
	size_t len = r->len, i;
	char *old = r->region, *moved, c;
	pid_t pid;
	int status;

	/*
	 * Empty the region, so that the faulters fault (do_anonymous_page)
	 * again, and change the VMA while many of their faults are in flight.
	 * The owned variants keep their data: they check it.
	 */
	if (!r->owned)
		madvise(old, len, MADV_DONTNEED);
	usleep(50 + rand() % 200);
	switch (op) {
	case OP_MUNMAP:
		munmap(old, len);
		faulters_pause(r);
		r->region = map_region(old, len);
		if (!r->region) {
			*why = "cannot map the region again";
			return false;
		}
		if (!only_zero(r->region + 1, len - 1, false)) {
			*why = "stale data after munmap + mmap";
			return false;
		}
		break;
	case OP_PROT_READ:
	case OP_PROT_NONE:
		mprotect(old, len, op == OP_PROT_READ ? PROT_READ : PROT_NONE);
		faulters_pause(r);
		for (i = 0; i < REGION_PAGES; i++) {
			if (try_write(old + i * PAGE_SZ, 1)) {
				*why = "write succeeded after mprotect";
				return false;
			}
			if (op == OP_PROT_NONE && try_read(old + i * PAGE_SZ, &c)) {
				*why = "read succeeded after PROT_NONE";
				return false;
			}
		}
		mprotect(old, len, PROT_READ | PROT_WRITE);
		break;
	case OP_MREMAP:
		moved = mremap(old, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			       spare);
		faulters_pause(r);
		if (moved == MAP_FAILED) {
			*why = "mremap failed";
			return false;
		}
		r->region = map_region(old, len);
		if (!r->region) {
			*why = "cannot map the old range again";
			return false;
		}
		if (!only_zero(r->region + 1, len - 1, false)) {
			*why = "stale data in the old range after mremap";
			return false;
		}
		if (!only_zero(moved, len, true)) {
			*why = "moved data holds what nobody wrote";
			return false;
		}
		/* Reserve the destination again for the next round. */
		if (mmap(moved, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
			 MAP_FIXED, -1, 0) != moved) {
			*why = "cannot reserve the mremap destination again";
			return false;
		}
		break;
	case OP_PAGEOUT:
		madvise(old, len, MADV_PAGEOUT);
		faulters_pause(r);
		break;
	case OP_MERGE:
		if (!split_and_merge(r, why))
			return false;
		faulters_pause(r);
		if (!one_vma(old, len)) {
			*why = "the region did not merge back into one VMA";
			return false;
		}
		if (!only_zero(old, len, true)) {
			*why = "data nobody wrote after split and merge";
			return false;
		}
		break;
	case OP_FORK:
		pid = fork();
		if (pid < 0) {
			*why = "fork failed";
			return false;
		}
		if (!pid) {
			/* The child's copy is its own: write all, check all. */
			for (i = 0; i < REGION_PAGES; i++)
				old[i * PAGE_SZ + 3] = (char)i;
			for (i = 0; i < REGION_PAGES; i++)
				if (old[i * PAGE_SZ + 3] != (char)i)
					_exit(1);
			_exit(0);
		}
		faulters_pause(r);
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			*why = "the forked child saw wrong data";
			return false;
		}
		break;
	}
	if (atomic_load(&r->lost)) {
		*why = "a faulter lost one of its writes";
		return false;
	}
	faulters_resume(r);
	return true;
}

FIXTURE(race) {
	struct race r;
	pthread_t threads[NR_FAULTERS];
	struct faulter_arg args[NR_FAULTERS];
	char *spare;
	int nr_threads;
};

FIXTURE_VARIANT(race) {
	enum race_op op;
	bool owned;
};

FIXTURE_VARIANT_ADD(race, munmap) { .op = OP_MUNMAP };
FIXTURE_VARIANT_ADD(race, mprotect_read) { .op = OP_PROT_READ };
FIXTURE_VARIANT_ADD(race, mprotect_none) { .op = OP_PROT_NONE };
FIXTURE_VARIANT_ADD(race, mremap) { .op = OP_MREMAP };
FIXTURE_VARIANT_ADD(race, pageout) { .op = OP_PAGEOUT, .owned = true };
FIXTURE_VARIANT_ADD(race, fork_cow) { .op = OP_FORK, .owned = true };
FIXTURE_VARIANT_ADD(race, merge) { .op = OP_MERGE };

FIXTURE_SETUP(race)
{
	struct sigaction sa = { .sa_sigaction = segv_handler,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	int i;

	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	memset(&self->r, 0, sizeof(self->r));
	self->r.len = REGION_PAGES * PAGE_SZ;
	self->r.owned = variant->owned;
	self->r.region = map_region(NULL, self->r.len);
	ASSERT_NE(NULL, self->r.region);
	/*
	 * mremap's destination, reserved so that no thread stack lands
	 * there; MREMAP_FIXED replaces the reservation.
	 */
	self->spare = mmap(NULL, self->r.len, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->spare);
	for (i = 0; i < NR_FAULTERS; i++) {
		self->args[i].r = &self->r;
		self->args[i].id = i;
		ASSERT_EQ(0, pthread_create(&self->threads[i], NULL, faulter_fn,
					    &self->args[i]));
		self->nr_threads++;
	}
}

FIXTURE_TEARDOWN(race)
{
	int i;

	atomic_store(&self->r.quit, true);
	for (i = 0; i < self->nr_threads; i++)
		pthread_join(self->threads[i], NULL);
	if (self->r.region)
		munmap(self->r.region, self->r.len);
	munmap(self->spare, self->r.len);
}

TEST_F_TIMEOUT(race, vma_change, 120)
{
	long spf_before = mmscale_vmstat("spf_success");
	long swpin_before = mmscale_vmstat("pswpin");
	int rounds = variant->op == OP_MERGE ? MERGE_ROUNDS : ROUNDS;
	uint64_t start = now_ns();
	const char *why = NULL;
	int round;

	/* Braces: the assertion must end the loop, not follow it. */
	for (round = 0; round < rounds; round++) {
		ASSERT_TRUE(race_round(&self->r, variant->op, self->spare,
				       &why))
			TH_LOG("round %d: %s", round, why);
	}

	TH_LOG("%d rounds in %llu ms", rounds,
	       (unsigned long long)((now_ns() - start) / 1000000));
	if (spf_before >= 0) {
		long spf = mmscale_vmstat("spf_success") - spf_before;

		TH_LOG("spf_success +%ld", spf);
		/* Speculative faults on: they must have carried some faults. */
		if (sysctl_on("/proc/sys/vm/speculative_page_fault"))
			ASSERT_GT(spf, 0);
	}
	if (variant->op == OP_PAGEOUT) {
		long swpin = mmscale_vmstat("pswpin") - swpin_before;

		TH_LOG("pswpin +%ld", swpin);
		if (swpin <= 0)
			SKIP(return, "no swap-in happened (no swap device?)");
	}
}

#define DECLINED_PAGES	32

/*
 * Give [p, p + len) the memory policy @mode for node 0, or the calling
 * thread if @p is NULL (the guest has one node).  0, or -1 with errno
 * (ENOSYS without CONFIG_NUMA).
 */
static int set_policy(void *p, size_t len, int mode)
{
	unsigned long node0 = 1;

	if (!p)
		return syscall(SYS_set_mempolicy, mode,
			       mode == MPOL_DEFAULT ? NULL : &node0,
			       8 * sizeof(node0));
	return syscall(SYS_mbind, p, len, mode, &node0, 8 * sizeof(node0), 0);
}

enum vma_setup { SETUP_NONE, SETUP_MLOCK, SETUP_MBIND };

/*
 * Fault in DECLINED_PAGES pages of a new private mapping of @fd (anonymous
 * if -1) made with @mmap_flags (and mlock2(MLOCK_ONFAULT) or an MPOL_BIND
 * policy for node 0 as @setup says), after a first touch that sets up its
 * anon_vma (counted as spf_abort_no_anon_vma).  Return NULL and the growth
 * of @counter and of spf_success, or what failed.
 */
static const char *fault_declined(int fd, int mmap_flags, enum vma_setup setup,
				  const char *counter, long *aborts, long *spf)
{
	size_t len = (DECLINED_PAGES + 1) * PAGE_SZ;
	long aborts0, spf0;
	char *p;
	int i;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | mmap_flags |
		 (fd < 0 ? MAP_ANONYMOUS : 0), fd, 0);
	if (p == MAP_FAILED)
		return "mmap";
	if (setup == SETUP_MLOCK && syscall(SYS_mlock2, p, len, MLOCK_ONFAULT)) {
		munmap(p, len);
		return "mlock2(MLOCK_ONFAULT)";
	}
	if (setup == SETUP_MBIND && set_policy(p, len, MPOL_BIND)) {
		munmap(p, len);
		return "mbind(MPOL_BIND, node 0)";
	}
	/* The top page first: a stack VMA grows down from there. */
	p[DECLINED_PAGES * PAGE_SZ] = 1;
	aborts0 = mmscale_vmstat(counter);
	spf0 = mmscale_vmstat("spf_success");
	for (i = DECLINED_PAGES - 1; i >= 0; i--)
		p[i * PAGE_SZ] = 1;
	*aborts = mmscale_vmstat(counter) - aborts0;
	*spf = mmscale_vmstat("spf_success") - spf0;
	munmap(p, len);
	return NULL;
}

static void check_declined(struct __test_metadata *_metadata, int fd,
			   int mmap_flags, enum vma_setup setup,
			   const char *counter)
{
	const char *why;
	long aborts, spf;

	if (mmscale_vmstat(counter) < 0)
		SKIP(return, "no %s in /proc/vmstat", counter);
	if (!sysctl_on("/proc/sys/vm/speculative_page_fault"))
		SKIP(return, "vm.speculative_page_fault is off");
	why = fault_declined(fd, mmap_flags, setup, counter, &aborts, &spf);
	ASSERT_EQ(NULL, why) TH_LOG("%s: %s", why, strerror(errno));
	TH_LOG("%d faults: %s +%ld, spf_success +%ld", DECLINED_PAGES,
	       counter, aborts, spf);
	/* Each fault was declined for this reason... */
	ASSERT_GE(aborts, DECLINED_PAGES);
	/* ...and none of them finished speculatively. */
	ASSERT_LT(spf, DECLINED_PAGES);
}

TEST(declined_mlock)
{
	check_declined(_metadata, -1, 0, SETUP_MLOCK, "spf_abort_mlock");
}

TEST(declined_stack)
{
	check_declined(_metadata, -1, MAP_GROWSDOWN, SETUP_NONE,
		       "spf_abort_stack");
}

/* Anonymous, but with a file that the fault path would read unpinned. */
TEST(declined_dev_zero)
{
	int fd = open("/dev/zero", O_RDWR);

	if (fd < 0)
		SKIP(return, "no /dev/zero: %s", strerror(errno));
	check_declined(_metadata, fd, 0, SETUP_NONE, "spf_abort_not_anon");
	close(fd);
}

/*
 * Memory policies (CONFIG_NUMA).  A VMA with its own policy is left to the
 * locked path, and so is a task that interleaves: the speculative path
 * allocates with alloc_page(), which would place an interleaving task's
 * pages by its rotor, not by their offset as the locked path does.  A
 * task policy that does not interleave is applied by alloc_page() alike,
 * so its faults stay speculative.
 */
static void check_task_policy(struct __test_metadata *_metadata, int mode,
			      bool declined)
{
	const char *why;
	long aborts, spf;

	if (mmscale_vmstat("spf_abort_policy") < 0)
		SKIP(return, "no spf_abort_policy in /proc/vmstat");
	if (!sysctl_on("/proc/sys/vm/speculative_page_fault"))
		SKIP(return, "vm.speculative_page_fault is off");
	if (set_policy(NULL, 0, mode)) {
		if (errno == ENOSYS)
			SKIP(return, "no memory policies (CONFIG_NUMA=n)");
		ASSERT_EQ(0, errno) TH_LOG("set_mempolicy: %s", strerror(errno));
	}
	why = fault_declined(-1, 0, SETUP_NONE, "spf_abort_policy", &aborts,
			     &spf);
	ASSERT_EQ(0, set_policy(NULL, 0, MPOL_DEFAULT));
	ASSERT_EQ(NULL, why) TH_LOG("%s: %s", why, strerror(errno));
	TH_LOG("%d faults: spf_abort_policy +%ld, spf_success +%ld",
	       DECLINED_PAGES, aborts, spf);
	if (declined) {
		ASSERT_GE(aborts, DECLINED_PAGES);
		ASSERT_LT(spf, DECLINED_PAGES);
	} else {
		ASSERT_EQ(0, aborts);
		ASSERT_GE(spf, DECLINED_PAGES * 9 / 10);
	}
}

TEST(declined_vma_policy)
{
	if (set_policy(NULL, 0, MPOL_DEFAULT) && errno == ENOSYS)
		SKIP(return, "no memory policies (CONFIG_NUMA=n)");
	check_declined(_metadata, -1, 0, SETUP_MBIND, "spf_abort_policy");
}

TEST(declined_task_interleave)
{
	check_task_policy(_metadata, MPOL_INTERLEAVE, true);
}

TEST(task_bind_speculative)
{
	check_task_policy(_metadata, MPOL_BIND, false);
}

/*
 * A thread splits the last page off a VMA and merges it back, over and
 * over (mprotect()), while another faults fresh pages in the VMA right
 * above it.  The split does not change that VMA, so none of its faults
 * may be turned away as spf_abort_vma_busy: they went on speculatively
 * while mmap_lock was held for the split.
 */
#define SPLIT_PAGES	64
#define SPLIT_ROUNDS	500
#define SPLIT_NS	(3 * 1000000000ULL)
/* How long own_split_cow() goes on while it has seen no rebase of a kind. */
#define SPLIT_MAX_NS	(10 * 1000000000ULL)

struct splitter {
	char *last;		/* the page split off and merged back */
	atomic_bool stop;
	int rounds;
	int err;
};

static void *splitter_fn(void *arg)
{
	struct splitter *s = arg;

	while (!atomic_load(&s->stop)) {
		if (mprotect(s->last, PAGE_SZ, PROT_READ) ||
		    mprotect(s->last, PAGE_SZ, PROT_READ | PROT_WRITE)) {
			s->err = errno;
			break;
		}
		s->rounds++;
	}
	return NULL;
}

TEST(neighbour_split)
{
	size_t len = SPLIT_PAGES * PAGE_SZ;
	struct splitter s = { 0 };
	long busy0, spf0, busy, spf, faults = 0;
	char *low, *high;
	pthread_t thread;
	uint64_t end;
	int round, i;

	if (mmscale_vmstat("spf_abort_vma_busy") < 0)
		SKIP(return, "no spf_abort_vma_busy in /proc/vmstat");
	if (!sysctl_on("/proc/sys/vm/speculative_page_fault"))
		SKIP(return, "vm.speculative_page_fault is off");
	/* Two VMAs, one above the other; MAP_NORESERVE keeps them apart. */
	low = map_anon(2 * len);
	ASSERT_NE(NULL, low);
	high = mmap(low + len, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	ASSERT_EQ(low + len, high);
	ASSERT_EQ(0, madvise(high, len, MADV_NOHUGEPAGE));
	high[0] = 1;	/* its anon_vma */
	memset(low, 1, len);
	s.last = high - PAGE_SZ;
	atomic_init(&s.stop, false);

	busy0 = mmscale_vmstat("spf_abort_vma_busy");
	spf0 = mmscale_vmstat("spf_success");
	ASSERT_EQ(0, pthread_create(&thread, NULL, splitter_fn, &s));
	end = now_ns() + SPLIT_NS;
	for (round = 0; round < SPLIT_ROUNDS && now_ns() < end && !s.err;
	     round++) {
		for (i = 1; i < SPLIT_PAGES; i++)
			high[i * PAGE_SZ] = 1;
		faults += SPLIT_PAGES - 1;
		ASSERT_EQ(0, madvise(high + PAGE_SZ, len - PAGE_SZ,
				     MADV_DONTNEED));
	}
	atomic_store(&s.stop, true);
	pthread_join(thread, NULL);
	busy = mmscale_vmstat("spf_abort_vma_busy") - busy0;
	spf = mmscale_vmstat("spf_success") - spf0;
	munmap(low, 2 * len);
	ASSERT_EQ(0, s.err) TH_LOG("mprotect: %s", strerror(s.err));
	TH_LOG("%ld faults beside %d splits: spf_success +%ld, spf_abort_vma_busy +%ld",
	       faults, s.rounds, spf, busy);
	/* The splits ran while the faults did. */
	ASSERT_GT(s.rounds, 0);
	EXPECT_GE(spf, faults * 9 / 10);
	EXPECT_EQ(0, busy);
}

/* The pages of a region but @toggle and the last. */
#define for_each_own_page(i, toggle)					\
	for ((i) = 0; (i) < SPLIT_PAGES - 1; (i)++)			\
		if ((i) != (toggle))

/* MADV_DONTNEED the pages of a region but @toggle, which stays as it is. */
static int empty_but_toggle(char *region, int toggle)
{
	if (madvise(region, toggle * PAGE_SZ, MADV_DONTNEED))
		return -1;
	return madvise(region + (toggle + 1) * PAGE_SZ,
		       (SPLIT_PAGES - toggle - 1) * PAGE_SZ, MADV_DONTNEED);
}

/*
 * The main thread writes a new value to each page of a region but its last
 * and @toggle and checks it, then MADV_DONTNEEDs them, while the splitter
 * splits the region's VMA at @toggle (mprotect of that page to read-only)
 * and merges it again.  @toggle is never written, so the splits change no
 * PTE.
 */
static void own_split(struct __test_metadata *_metadata, int toggle)
{
	size_t len = SPLIT_PAGES * PAGE_SZ;
	long rebase0, wait0, spf0, rebase, wait, spf, faults = 0, lost = 0;
	struct splitter s = { 0 };
	pthread_t thread;
	char *region;
	uint64_t end;
	int round, i;

	if (mmscale_vmstat("spf_rebase") < 0 || mmscale_vmstat("spf_wait") < 0)
		SKIP(return, "no spf_rebase or spf_wait in /proc/vmstat");
	if (!sysctl_on("/proc/sys/vm/speculative_page_fault"))
		SKIP(return, "vm.speculative_page_fault is off");
	region = map_anon(len);
	ASSERT_NE(NULL, region);
	region[0] = 1;	/* its anon_vma */
	s.last = region + toggle * PAGE_SZ;
	atomic_init(&s.stop, false);

	rebase0 = mmscale_vmstat("spf_rebase");
	wait0 = mmscale_vmstat("spf_wait");
	spf0 = mmscale_vmstat("spf_success");
	ASSERT_EQ(0, pthread_create(&thread, NULL, splitter_fn, &s));
	end = now_ns() + SPLIT_NS;
	for (round = 0; round < SPLIT_ROUNDS && now_ns() < end && !s.err;
	     round++) {
		char val = 1 + round % 127;

		for_each_own_page(i, toggle) {
			region[i * PAGE_SZ] = val;
			faults++;
		}
		for_each_own_page(i, toggle)
			if (region[i * PAGE_SZ] != val)
				lost++;
		ASSERT_EQ(0, empty_but_toggle(region, toggle));
	}
	atomic_store(&s.stop, true);
	pthread_join(thread, NULL);
	rebase = mmscale_vmstat("spf_rebase") - rebase0;
	wait = mmscale_vmstat("spf_wait") - wait0;
	spf = mmscale_vmstat("spf_success") - spf0;
	ASSERT_EQ(0, s.err) TH_LOG("mprotect: %s", strerror(s.err));
	EXPECT_TRUE(one_vma(region, len));
	munmap(region, len);
	TH_LOG("%ld faults beside %d splits at page %d: spf_success +%ld, spf_wait +%ld, spf_rebase +%ld",
	       faults, s.rounds, toggle, spf, wait, rebase);
	ASSERT_GT(s.rounds, 0);
	EXPECT_EQ(0, lost);
	/*
	 * Faults that meet a split wait for it, at their start or at their
	 * commit, and go on speculatively.
	 */
	EXPECT_GT(wait, 0);
	EXPECT_GT(rebase, 0);
}

TEST(own_split_end)
{
	own_split(_metadata, SPLIT_PAGES - 1);
}

TEST(own_split_middle)
{
	own_split(_metadata, SPLIT_PAGES / 2);
}

/* The second pass of own_split_twice(): what its faults do. */
enum second_pass {
	ZERO_COW,	/* copy the zero page that the first pass mapped */
	FORK_COW,	/* copy the pages that a live child shares */
	FORK_REUSE,	/* reuse the pages that a child shared until it exited */
	SWAP_IN,	/* read the pages back from swap (MADV_PAGEOUT) */
};

/*
 * Fork a child that checks, once the parent writes to @pipefd, that the
 * region still holds @val, or (@pipefd NULL) exits at once.
 */
static pid_t fork_checker(char *region, int toggle, char val, int *pipefd)
{
	pid_t child = fork();
	char c;
	int i;

	if (child)
		return child;
	if (!pipefd)
		_exit(0);
	close(pipefd[1]);
	/* Wait until the parent has copied its pages. */
	if (read(pipefd[0], &c, 1) != 1)
		_exit(2);
	for_each_own_page(i, toggle)
		if (region[i * PAGE_SZ] != val)
			_exit(1);
	_exit(0);
}

static int child_status(pid_t child)
{
	int status;

	if (waitpid(child, &status, 0) != child)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * own_split() with two passes over the pages per round, of which the
 * second takes the faults under test: the main thread reads the pages
 * (which maps the zero page) and then writes them (which copies it); or
 * writes them, forks a child and writes them again: with the child alive,
 * which keeps the old values, each write copies a page; once the child
 * exited, each write reuses the page the child shared; or writes them,
 * pages them out and reads them back from swap.  Meanwhile the splitter
 * splits and merges the region's VMA at the middle page.  Every such
 * commit may go on after a split, and the rebases of the second pass are
 * counted apart.  No write may be lost, and every child must find the
 * values of its fork.
 */
static void own_split_twice(struct __test_metadata *_metadata,
			    enum second_pass kind)
{
	const int toggle = SPLIT_PAGES / 2;
	size_t len = SPLIT_PAGES * PAGE_SZ;
	long faults = 0, lost = 0, bad_children = 0, first_rebases = 0;
	long second_rebases = 0, reuses = 0, reuse_rebases = 0, swapins = 0;
	long before, reuse0, swapin0;
	struct splitter s = { 0 };
	pthread_t thread;
	uint64_t start;
	char *region;
	int round, i;

	if (mmscale_vmstat("spf_rebase") < 0)
		SKIP(return, "no spf_rebase in /proc/vmstat");
	if (!sysctl_on("/proc/sys/vm/speculative_page_fault"))
		SKIP(return, "vm.speculative_page_fault is off");
	region = map_anon(len);
	ASSERT_NE(NULL, region);
	region[0] = 1;	/* its anon_vma */
	ASSERT_EQ(0, madvise(region, PAGE_SZ, MADV_DONTNEED));
	if (kind == SWAP_IN) {
		long out0 = mmscale_vmstat("pswpout");

		memset(region + PAGE_SZ, 1, PAGE_SZ);
		if (madvise(region + PAGE_SZ, PAGE_SZ, MADV_PAGEOUT) ||
		    mmscale_vmstat("pswpout") == out0) {
			munmap(region, len);
			SKIP(return, "MADV_PAGEOUT swapped nothing out (no swap device?)");
		}
		ASSERT_EQ(0, madvise(region + PAGE_SZ, PAGE_SZ, MADV_DONTNEED));
	}
	s.last = region + toggle * PAGE_SZ;
	atomic_init(&s.stop, false);

	ASSERT_EQ(0, pthread_create(&thread, NULL, splitter_fn, &s));
	start = now_ns();
	/*
	 * A fault of the second pass meets a split only now and then (for
	 * a write-protect fault, the window is its page-table walk): go on
	 * up to SPLIT_MAX_NS until both kinds of rebase were seen.
	 */
	for (round = 0; !s.err; round++) {
		char val = 1 + round % 126;
		char second = kind == SWAP_IN ? val : val + 1;
		int pipefd[2] = { -1, -1 };
		long rebased, reused;
		pid_t child = -1;

		if (round >= SPLIT_ROUNDS || now_ns() - start >= SPLIT_NS) {
			if (second_rebases && first_rebases &&
			    (kind != FORK_REUSE || reuse_rebases))
				break;
			if (now_ns() - start >= SPLIT_MAX_NS)
				break;
		}

		/* First pass: zero-page reads, or new pages. */
		before = mmscale_vmstat("spf_rebase");
		for_each_own_page(i, toggle) {
			if (kind != ZERO_COW)
				region[i * PAGE_SZ] = val;
			else if (region[i * PAGE_SZ] != 0)
				lost++;
		}
		first_rebases += mmscale_vmstat("spf_rebase") - before;
		if (kind == FORK_COW) {
			ASSERT_EQ(0, pipe(pipefd));
			child = fork_checker(region, toggle, val, pipefd);
			ASSERT_LE(0, child);
			close(pipefd[0]);
		} else if (kind == FORK_REUSE) {
			child = fork_checker(region, toggle, val, NULL);
			ASSERT_LE(0, child);
			if (child_status(child))
				bad_children++;
		} else if (kind == SWAP_IN) {
			ASSERT_EQ(0, madvise(region, len, MADV_PAGEOUT));
		}
		/*
		 * Second pass: every write copies a page or reuses it, or
		 * every read swaps a page in.
		 */
		before = mmscale_vmstat("spf_rebase");
		reuse0 = mmscale_vmstat("pgreuse");
		swapin0 = mmscale_vmstat("pswpin");
		for_each_own_page(i, toggle) {
			if (kind != SWAP_IN)
				region[i * PAGE_SZ] = second;
			else if (region[i * PAGE_SZ] != second)
				lost++;
		}
		faults += SPLIT_PAGES - 2;
		rebased = mmscale_vmstat("spf_rebase") - before;
		reused = mmscale_vmstat("pgreuse") - reuse0;
		swapins += mmscale_vmstat("pswpin") - swapin0;
		second_rebases += rebased;
		reuses += reused;
		/*
		 * Where every write reused its page, no rebase came from a
		 * copy (a page still in another CPU's LRU batch is copied).
		 */
		if (reused == SPLIT_PAGES - 2)
			reuse_rebases += rebased;
		for_each_own_page(i, toggle)
			if (region[i * PAGE_SZ] != second)
				lost++;
		if (kind == FORK_COW) {
			ASSERT_EQ(1, write(pipefd[1], "x", 1));
			close(pipefd[1]);
			if (child_status(child))
				bad_children++;
		}
		ASSERT_EQ(0, empty_but_toggle(region, toggle));
	}
	atomic_store(&s.stop, true);
	pthread_join(thread, NULL);
	ASSERT_EQ(0, s.err) TH_LOG("mprotect: %s", strerror(s.err));
	EXPECT_TRUE(one_vma(region, len));
	munmap(region, len);
	TH_LOG("%d rounds, %ld faults beside %d splits (pgreuse +%ld, pswpin +%ld): spf_rebase +%ld in the first pass, +%ld in the second, +%ld in the rounds that only reused",
	       round, faults, s.rounds, reuses, swapins, first_rebases,
	       second_rebases, reuse_rebases);
	ASSERT_GT(s.rounds, 0);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, bad_children);
	/* The faults of the second pass that meet a split go on. */
	EXPECT_GT(second_rebases, 0);
	/* So do zero-page reads, and the writes of new pages. */
	EXPECT_GT(first_rebases, 0);
	/* The pages of an exited child are reused, not copied... */
	if (kind == FORK_REUSE) {
		EXPECT_GT(reuses, faults / 2);
		/* ...and a reuse that meets a split goes on speculatively. */
		EXPECT_GT(reuse_rebases, 0);
	}
	/* The pages are read back from swap, not found in memory. */
	if (kind == SWAP_IN)
		EXPECT_GT(swapins, faults / 2);
}

TEST(own_split_zero_cow)
{
	own_split_twice(_metadata, ZERO_COW);
}

TEST(own_split_fork_cow)
{
	own_split_twice(_metadata, FORK_COW);
}

TEST(own_split_fork_reuse)
{
	own_split_twice(_metadata, FORK_REUSE);
}

TEST(own_split_swap_in)
{
	own_split_twice(_metadata, SWAP_IN);
}

TEST_HARNESS_MAIN

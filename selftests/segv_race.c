// SPDX-License-Identifier: GPL-2.0
/*
 * SIGSEGV semantics, alone and under racing VMA changes.
 *
 * A fault on a PROT_NONE page (or a write to a PROT_READ one) must give
 * SEGV_ACCERR, one on an unmapped hole SEGV_MAPERR, both with si_addr the
 * faulting address.  The race cases keep that true while another thread
 * cycles the target page through mprotect() and munmap()/mmap(): a
 * seqcount tells the faulting threads whether the state changed during
 * their access.  If it did not, the outcome must be exactly the one for
 * that state and a successful read must see the pattern; if it did, any
 * outcome of the states the case cycles through is allowed, but never
 * another si_code, another si_addr or other contents.
 *
 * The target is the middle page of three, so that munmap() leaves a hole
 * between two mappings and mprotect() splits and merges VMAs.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mmscale_util.h"

#define TRANSITIONS	100
#define NR_FAULTERS	2
#define STABLE_EVERY	5
#define YIELD_EVERY	16	/* accesses in one state */

enum state { ST_RW, ST_RO, ST_NONE, ST_UNMAPPED, NR_STATES };

/* What an access did: went through, or the si_code of its SIGSEGV. */
enum outcome { OUT_OK, OUT_ACCERR, OUT_MAPERR, OUT_OTHER, NR_OUTCOMES };

static const char * const outcome_name[] = {
	"success", "SEGV_ACCERR", "SEGV_MAPERR", "other si_code",
};

static enum outcome expected(enum state st, bool write)
{
	switch (st) {
	case ST_RW:
		return OUT_OK;
	case ST_RO:
		return write ? OUT_ACCERR : OUT_OK;
	case ST_NONE:
		return OUT_ACCERR;
	default:
		return OUT_MAPERR;
	}
}

static __thread sigjmp_buf fault_jmp;
static __thread volatile sig_atomic_t fault_armed;
static __thread volatile int fault_code;
static __thread void *volatile fault_addr;

static void segv_handler(int sig, siginfo_t *info, void *uc)
{
	if (!fault_armed) {
		/* Not ours: die of it. */
		signal(SIGSEGV, SIG_DFL);
		return;
	}
	fault_armed = 0;
	fault_code = info->si_code;
	fault_addr = info->si_addr;
	siglongjmp(fault_jmp, 1);
}

static int install_handler(void)
{
	/*
	 * SA_NODEFER: SIGSEGV stays unblocked in the handler, so that
	 * siglongjmp() need not restore the signal mask, and an access that
	 * goes through costs no system call.
	 */
	struct sigaction sa = {
		.sa_sigaction = segv_handler,
		.sa_flags = SA_SIGINFO | SA_NODEFER,
	};

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGSEGV, &sa, NULL);
}

/*
 * Read or write the word at @p, catching a SIGSEGV.  A write stores the
 * value that is already there, so the contents never change.
 */
static enum outcome access_word(volatile uint64_t *p, bool write,
				uint64_t wval, uint64_t *rval, void **addr)
{
	if (sigsetjmp(fault_jmp, 0)) {
		*addr = fault_addr;
		if (fault_code == SEGV_ACCERR)
			return OUT_ACCERR;
		if (fault_code == SEGV_MAPERR)
			return OUT_MAPERR;
		return OUT_OTHER;
	}
	fault_armed = 1;
	if (write)
		*p = wval;
	else
		*rval = *p;
	fault_armed = 0;
	return OUT_OK;
}

static int prot_of(enum state st)
{
	return st == ST_RW ? PROT_READ | PROT_WRITE :
	       st == ST_RO ? PROT_READ : PROT_NONE;
}

/* Put the target page, currently in state @from, into state @to. */
static int set_state(char *page, uint64_t seed, enum state from, enum state to)
{
	if (to == ST_UNMAPPED)
		return munmap(page, PAGE_SZ);
	if (from == ST_UNMAPPED) {
		if (mmap(page, PAGE_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != page)
			return -1;
		pattern_fill(page, PAGE_SZ, seed);
		from = ST_RW;
	}
	if (from == to)
		return 0;
	return mprotect(page, PAGE_SZ, prot_of(to));
}

/* Three pages, the middle one the target, filled with the pattern. */
static char *map_target(uint64_t seed)
{
	char *p = map_anon(3 * PAGE_SZ);

	if (!p)
		return NULL;
	pattern_fill(p, 3 * PAGE_SZ, seed);
	return p + PAGE_SZ;
}

FIXTURE(segv) {
	char *target;
	uint64_t seed;
};

FIXTURE_SETUP(segv)
{
	self->seed = mmscale_seed();
	self->target = map_target(self->seed);
	ASSERT_NE(NULL, self->target);
	ASSERT_EQ(0, install_handler());
}

FIXTURE_TEARDOWN(segv)
{
	munmap(self->target - PAGE_SZ, 3 * PAGE_SZ);
}

/* Single-threaded: one state, one access, one outcome. */
FIXTURE_VARIANT(segv) {
	enum state state;
	bool write;
};

FIXTURE_VARIANT_ADD(segv, read_rw) { .state = ST_RW };
FIXTURE_VARIANT_ADD(segv, write_rw) { .state = ST_RW, .write = true };
FIXTURE_VARIANT_ADD(segv, read_prot_read) { .state = ST_RO };
FIXTURE_VARIANT_ADD(segv, write_prot_read) { .state = ST_RO, .write = true };
FIXTURE_VARIANT_ADD(segv, read_prot_none) { .state = ST_NONE };
FIXTURE_VARIANT_ADD(segv, write_prot_none) { .state = ST_NONE, .write = true };
FIXTURE_VARIANT_ADD(segv, read_unmapped) { .state = ST_UNMAPPED };
FIXTURE_VARIANT_ADD(segv, write_unmapped) {
	.state = ST_UNMAPPED, .write = true,
};

TEST_F(segv, access)
{
	size_t off = (self->seed % (PAGE_SZ / 8)) * 8;
	volatile uint64_t *p = (uint64_t *)(self->target + off);
	uint64_t want = mmscale_pattern(self->seed, (uintptr_t)p), got = 0;
	enum outcome out;
	void *addr = NULL;

	ASSERT_EQ(0, set_state(self->target, self->seed, ST_RW,
			       variant->state));
	out = access_word(p, variant->write, want, &got, &addr);
	ASSERT_EQ(expected(variant->state, variant->write), out)
		TH_LOG("got %s", outcome_name[out]);
	if (out == OUT_OK) {
		if (!variant->write)
			ASSERT_EQ(want, got);
	} else {
		ASSERT_EQ((void *)p, addr);
	}
	/* The teardown expects the page to be mapped again. */
	ASSERT_EQ(0, set_state(self->target, self->seed, variant->state,
			       ST_RW));
}

/*
 * The old address of a page moved with mremap() is a hole, the new one has
 * the contents.
 */
TEST(mremap_old_address)
{
	uint64_t seed = mmscale_seed(), got = 0;
	char *target = map_target(seed);
	char *dst = map_anon(PAGE_SZ);
	volatile uint64_t *p;
	void *addr = NULL;

	ASSERT_NE(NULL, target);
	ASSERT_NE(NULL, dst);
	ASSERT_EQ(0, install_handler());
	p = (uint64_t *)(target + 64);
	ASSERT_EQ(dst, mremap(target, PAGE_SZ, PAGE_SZ,
			      MREMAP_MAYMOVE | MREMAP_FIXED, dst));
	ASSERT_EQ(OUT_MAPERR, access_word(p, false, 0, &got, &addr));
	ASSERT_EQ((void *)p, addr);
	ASSERT_NE(0, *(uint64_t *)dst);
	ASSERT_TRUE(pattern_page_ok(dst, target - dst, seed));
	ASSERT_EQ(target, mremap(dst, PAGE_SZ, PAGE_SZ,
				 MREMAP_MAYMOVE | MREMAP_FIXED, target));
	ASSERT_EQ(OUT_OK, access_word(p, false, 0, &got, &addr));
	ASSERT_EQ(mmscale_pattern(seed, (uintptr_t)p), got);
	munmap(target - PAGE_SZ, 3 * PAGE_SZ);
}

/* The race: one thread changes the state, NR_FAULTERS access the page. */
struct race {
	char *target;
	uint64_t seed;
	const enum state *states;	/* cycled through, in order */
	unsigned int nr_states;
	bool write;
	atomic_uint seq;		/* odd while the state changes */
	atomic_int state;
	atomic_ulong stable_hits;	/* accesses in a known state */
	atomic_bool done;
	atomic_bool failed;		/* a faulter gave up */
	pthread_barrier_t start;
	int racer_errno;
};

struct faulter_result {
	unsigned long count[NR_OUTCOMES];
	unsigned long stable;		/* accesses checked strictly */
	char failure[160];		/* the first violation */
};

/* Change the state of the target page under the seqcount. */
static int racer_step(struct race *r, enum state cur, enum state next)
{
	int ret;

	atomic_fetch_add(&r->seq, 1);
	ret = set_state(r->target, r->seed, cur, next);
	if (!ret)
		atomic_store(&r->state, next);
	atomic_fetch_add(&r->seq, 1);
	if (ret)
		r->racer_errno = errno;
	return ret;
}

static void *racer_fn(void *arg)
{
	struct race *r = arg;
	enum state cur = ST_RW;
	unsigned long target;
	unsigned int i;

	pthread_barrier_wait(&r->start);
	for (i = 1; i <= TRANSITIONS && !atomic_load(&r->failed); i++) {
		enum state next = r->states[i % r->nr_states];

		if (racer_step(r, cur, next))
			break;
		cur = next;

		/*
		 * Now and then, wait until the faulters have seen the new
		 * state before changing it again: they race with the
		 * changes, and are checked strictly in between.  STABLE_EVERY
		 * is prime to the lengths of the state cycles, so that every
		 * state is checked.
		 */
		if (i % STABLE_EVERY)
			continue;
		target = atomic_load(&r->stable_hits) + NR_FAULTERS;
		while (atomic_load(&r->stable_hits) < target &&
		       !atomic_load(&r->failed))
			sched_yield();
	}
	/* Leave the page mapped for the teardown. */
	if (cur != ST_RW)
		racer_step(r, cur, ST_RW);
	atomic_store(&r->done, true);
	return NULL;
}

static bool outcome_possible(const struct race *r, enum outcome out)
{
	unsigned int i;

	for (i = 0; i < r->nr_states; i++)
		if (expected(r->states[i], r->write) == out)
			return true;
	return false;
}

struct faulter_arg {
	struct race *race;
	struct faulter_result res;
	unsigned int rnd;
};

static void *faulter_fn(void *arg)
{
	struct faulter_arg *fa = arg;
	struct race *r = fa->race;
	struct faulter_result *res = &fa->res;
	char *f = res->failure;
	size_t fl = sizeof(res->failure);
	unsigned int last_seq = -1, same = 0;

	pthread_barrier_wait(&r->start);
	while (!atomic_load(&r->done) && !*f) {
		size_t off = (rand_r(&fa->rnd) % (PAGE_SZ / 8)) * 8;
		volatile uint64_t *p = (uint64_t *)(r->target + off);
		uint64_t want = mmscale_pattern(r->seed, (uintptr_t)p);
		unsigned int s1, s2;
		enum outcome out;
		enum state st;
		uint64_t got = 0;
		void *addr = NULL;

		s1 = atomic_load(&r->seq);
		st = atomic_load(&r->state);
		out = access_word(p, r->write, want, &got, &addr);
		atomic_thread_fence(memory_order_seq_cst);
		s2 = atomic_load(&r->seq);
		res->count[out]++;
		/*
		 * Keep at it while the racer works, but not so long that
		 * the racer, fewer CPUs than threads, waits for a CPU.
		 */
		if (s2 != last_seq)
			same = 0;
		else if (++same % YIELD_EVERY == 0)
			sched_yield();
		last_seq = s2;

		if (out != OUT_OK && addr != (void *)p)
			snprintf(f, fl, "si_addr %p for an access at %p",
				 addr, p);
		else if (out == OUT_OTHER || !outcome_possible(r, out))
			snprintf(f, fl, "%s, impossible in this race",
				 outcome_name[out]);
		else if (s1 == s2 && !(s1 & 1)) {
			res->stable++;
			/* The racer may be waiting for this: let it run. */
			atomic_fetch_add(&r->stable_hits, 1);
			sched_yield();
			if (out != expected(st, r->write))
				snprintf(f, fl, "%s in stable state %d",
					 outcome_name[out], st);
			else if (out == OUT_OK && !r->write && got != want)
				snprintf(f, fl, "read %#llx, want %#llx",
					 (unsigned long long)got,
					 (unsigned long long)want);
		} else if (out == OUT_OK && !r->write && got && got != want) {
			/* A page mapped again may not be filled yet. */
			snprintf(f, fl, "read %#llx during a change, want %#llx or 0",
				 (unsigned long long)got,
				 (unsigned long long)want);
		}
	}
	if (*f)
		atomic_store(&r->failed, true);
	return NULL;
}

static const enum state mprotect_states[] = { ST_RW, ST_NONE, ST_RO };
static const enum state munmap_states[] = { ST_RW, ST_UNMAPPED };
static const enum state mixed_states[] = {
	ST_RW, ST_NONE, ST_UNMAPPED, ST_RO, ST_UNMAPPED, ST_NONE,
};

FIXTURE(race) {
	char *target;
	struct race r;
};

FIXTURE_VARIANT(race) {
	const enum state *states;
	unsigned int nr_states;
	bool write;
};

#define RACE(name, st, wr)						\
	FIXTURE_VARIANT_ADD(race, name) {				\
		.states = st, .nr_states = sizeof(st) / sizeof(st[0]),	\
		.write = wr,						\
	}

RACE(mprotect_read, mprotect_states, false);
RACE(mprotect_write, mprotect_states, true);
RACE(munmap_read, munmap_states, false);
RACE(munmap_write, munmap_states, true);
RACE(mixed_read, mixed_states, false);
RACE(mixed_write, mixed_states, true);

FIXTURE_SETUP(race)
{
	self->r.seed = mmscale_seed();
	self->target = map_target(self->r.seed);
	ASSERT_NE(NULL, self->target);
	ASSERT_EQ(0, install_handler());
}

FIXTURE_TEARDOWN(race)
{
	munmap(self->target - PAGE_SZ, 3 * PAGE_SZ);
}

TEST_F_TIMEOUT(race, segv_codes, 60)
{
	struct race *r = &self->r;
	struct faulter_arg fa[NR_FAULTERS];
	pthread_t racer, faulter[NR_FAULTERS];
	unsigned long stable = 0;
	uint64_t t0 = now_ns();
	int i;

	r->target = self->target;
	r->states = variant->states;
	r->nr_states = variant->nr_states;
	r->write = variant->write;
	atomic_init(&r->seq, 0);
	atomic_init(&r->state, ST_RW);
	atomic_init(&r->stable_hits, 0);
	atomic_init(&r->done, false);
	atomic_init(&r->failed, false);
	ASSERT_EQ(0, pthread_barrier_init(&r->start, NULL, NR_FAULTERS + 1));

	memset(fa, 0, sizeof(fa));
	for (i = 0; i < NR_FAULTERS; i++) {
		fa[i].race = r;
		fa[i].rnd = r->seed + i;
		ASSERT_EQ(0, pthread_create(&faulter[i], NULL, faulter_fn,
					    &fa[i]));
	}
	ASSERT_EQ(0, pthread_create(&racer, NULL, racer_fn, r));
	pthread_join(racer, NULL);
	for (i = 0; i < NR_FAULTERS; i++)
		pthread_join(faulter[i], NULL);

	ASSERT_EQ(0, r->racer_errno)
		TH_LOG("racer: %s", strerror(r->racer_errno));
	for (i = 0; i < NR_FAULTERS; i++) {
		struct faulter_result *res = &fa[i].res;

		EXPECT_EQ(0, res->failure[0])
			TH_LOG("faulter %d: %s", i, res->failure);
		TH_LOG("faulter %d: ok %lu accerr %lu maperr %lu, stable %lu",
		       i, res->count[OUT_OK], res->count[OUT_ACCERR],
		       res->count[OUT_MAPERR], res->stable);
		stable += res->stable;
	}
	TH_LOG("%d transitions in %llu ms", TRANSITIONS,
	       (unsigned long long)(now_ns() - t0) / 1000000);
	/* Otherwise nothing was checked strictly. */
	EXPECT_GT(stable, 0);
}

TEST_HARNESS_MAIN

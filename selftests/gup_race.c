// SPDX-License-Identifier: GPL-2.0
/*
 * get_user_pages() and friends from kernel threads, racing with changes to
 * the VMAs and page tables they walk.
 *
 * The region holds mmscale_pattern() in every word.  The test module
 * (MMSCALE_IOC_GUP) runs each operation over it from kernel threads with
 * MMSCALE_GUP_VERIFY, alternately for read and for write, while a user
 * thread races with it:
 *
 *   munmap	munmap() a chunk, mmap() it again, repopulate it
 *   mprotect	PROT_NONE, PROT_READ, back to read-write
 *   mremap	move a chunk away and back
 *   dontneed	MADV_DONTNEED a chunk, repopulate it
 *   fork	fork(); the child checks its copy of the region
 *
 * Repopulating fills a staging mapping and mremap()s it over the chunk, so
 * that a page is never seen half written: every page the kernel reaches
 * holds the pattern or is zero, and anything else is a mismatch.  Pages
 * not reached (unmapped, protected) are errors, which the races expect;
 * without a race there must be none.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mmscale_util.h"

#define NR_PAGES	32
#define CHUNK_PAGES	4
#define NR_CHUNKS	(NR_PAGES / CHUNK_PAGES)
#define LOOPS		2
#define NR_KTHREADS	2
#define MIN_CALLS	4	/* without a race */
#define MAX_CALLS	16
#define MIN_RACER_OPS	6

enum racer_kind { R_NONE, R_MUNMAP, R_MPROTECT, R_MREMAP, R_DONTNEED, R_FORK };

struct race {
	char *region;
	char *away;		/* where R_MREMAP parks a chunk */
	uint64_t seed;
	enum racer_kind kind;
	atomic_bool stop;
	atomic_ulong ops;
	pthread_barrier_t start;
	char failure[160];
};

#define racer_fail(r, fmt, ...)						\
	snprintf((r)->failure, sizeof((r)->failure), fmt, ##__VA_ARGS__)

/* Give @chunk the pattern again without ever showing a partial page. */
static int repopulate(struct race *r, char *chunk)
{
	size_t len = CHUNK_PAGES * PAGE_SZ;
	char *staging = map_anon(len);

	if (!staging)
		return -1;
	pattern_fill_for(staging, len, r->seed, (uintptr_t)chunk);
	if (mremap(staging, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
		   chunk) != chunk) {
		munmap(staging, len);
		return -1;
	}
	return 0;
}

/* The child of R_FORK: its copy must hold the pattern everywhere. */
static int child_check(struct race *r)
{
	size_t i;

	for (i = 0; i < NR_PAGES; i++) {
		char *page = r->region + i * PAGE_SZ;

		if (!*(uint64_t *)page || !pattern_page_ok(page, 0, r->seed))
			return 1;
	}
	return 0;
}

static int racer_op(struct race *r, char *chunk)
{
	size_t len = CHUNK_PAGES * PAGE_SZ;
	int status;
	pid_t pid;

	switch (r->kind) {
	case R_MUNMAP:
		if (munmap(chunk, len) ||
		    mmap(chunk, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != chunk)
			return -1;
		return repopulate(r, chunk);
	case R_MPROTECT:
		return mprotect(chunk, len, PROT_NONE) ||
		       mprotect(chunk, len, PROT_READ) ||
		       mprotect(chunk, len, PROT_READ | PROT_WRITE);
	case R_MREMAP:
		if (mremap(chunk, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   r->away) != r->away ||
		    mremap(r->away, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   chunk) != chunk)
			return -1;
		/* Keep the parking place reserved. */
		return mmap(r->away, len, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			    -1, 0) == r->away ? 0 : -1;
	case R_DONTNEED:
		if (madvise(chunk, len, MADV_DONTNEED))
			return -1;
		return repopulate(r, chunk);
	case R_FORK:
		pid = fork();
		if (pid < 0)
			return -1;
		if (!pid)
			_exit(child_check(r));
		if (waitpid(pid, &status, 0) != pid)
			return -1;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			errno = 0;
			racer_fail(r, "the child saw wrong contents");
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

static void *racer_fn(void *arg)
{
	struct race *r = arg;
	unsigned long n;

	pthread_barrier_wait(&r->start);
	for (n = 0; !atomic_load(&r->stop); n++) {
		char *chunk = r->region + (n % NR_CHUNKS) * CHUNK_PAGES * PAGE_SZ;

		if (racer_op(r, chunk)) {
			if (!r->failure[0])
				racer_fail(r, "racer op %lu: %s", n,
					   strerror(errno));
			break;
		}
		atomic_fetch_add(&r->ops, 1);
	}
	return NULL;
}

FIXTURE(gup) {
	struct race r;
	pthread_t racer;
	bool racing;
	int fd;
};

FIXTURE_VARIANT(gup) {
	enum racer_kind kind;
};

FIXTURE_VARIANT_ADD(gup, no_race) { .kind = R_NONE };
FIXTURE_VARIANT_ADD(gup, munmap) { .kind = R_MUNMAP };
FIXTURE_VARIANT_ADD(gup, mprotect) { .kind = R_MPROTECT };
FIXTURE_VARIANT_ADD(gup, mremap) { .kind = R_MREMAP };
FIXTURE_VARIANT_ADD(gup, dontneed) { .kind = R_DONTNEED };
FIXTURE_VARIANT_ADD(gup, fork) { .kind = R_FORK };

FIXTURE_SETUP(gup)
{
	size_t len = NR_PAGES * PAGE_SZ;

	self->fd = -1;
	self->r.kind = variant->kind;
	self->r.seed = mmscale_seed();
	self->r.region = map_anon(len);
	ASSERT_NE(NULL, self->r.region);
	pattern_fill(self->r.region, len, self->r.seed);
	self->r.away = mmap(NULL, CHUNK_PAGES * PAGE_SZ, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->r.away);
	atomic_init(&self->r.stop, false);
	atomic_init(&self->r.ops, 0);
	ASSERT_EQ(0, pthread_barrier_init(&self->r.start, NULL, 2));
}

FIXTURE_TEARDOWN(gup)
{
	if (self->racing) {
		atomic_store(&self->r.stop, true);
		pthread_join(self->racer, NULL);
	}
	pthread_barrier_destroy(&self->r.start);
	munmap(self->r.region, NR_PAGES * PAGE_SZ);
	munmap(self->r.away, CHUNK_PAGES * PAGE_SZ);
	if (self->fd >= 0)
		close(self->fd);
}

static void run_case(struct __test_metadata *_metadata,
		     FIXTURE_DATA(gup) *self, enum racer_kind kind,
		     enum mmscale_gup_op op)
{
	struct race *r = &self->r;
	uint64_t done = 0, errors = 0, retries = 0, ns = 0, t0 = now_ns();
	unsigned int n, calls = 0;

	self->fd = mmscale_open_or_skip();
	if (kind != R_NONE) {
		ASSERT_EQ(0, pthread_create(&self->racer, NULL, racer_fn, r));
		self->racing = true;
		pthread_barrier_wait(&r->start);
	}

	for (n = 0; n < MAX_CALLS; n++) {
		struct mmscale_gup g = {
			.addr = (uintptr_t)r->region,
			.size = NR_PAGES * PAGE_SZ,
			.seed = r->seed,
			.op = op,
			.flags = MMSCALE_GUP_VERIFY |
				 (n & 1 ? MMSCALE_GUP_WRITE : 0),
			.pid = n & 2 ? getpid() : 0,
			.nr_threads = NR_KTHREADS,
			.loops = LOOPS,
		};

		ASSERT_EQ(0, ioctl(self->fd, MMSCALE_IOC_GUP, &g))
			TH_LOG("MMSCALE_IOC_GUP: %s", strerror(errno));
		ASSERT_EQ(0, g.mismatches)
			TH_LOG("call %u (flags %#x): %llu pages with wrong contents",
			       n, g.flags, (unsigned long long)g.mismatches);
		ASSERT_EQ(NR_PAGES * LOOPS, g.pages_done + g.errors);
		if (kind == R_NONE) {
			ASSERT_EQ(0, g.errors);
			ASSERT_EQ(NR_PAGES * LOOPS, g.pages_done);
		}
		calls++;
		done += g.pages_done;
		errors += g.errors;
		retries += g.retries;
		ns += g.elapsed_ns;

		if (kind == R_NONE ? n + 1 >= MIN_CALLS :
		    atomic_load(&r->ops) >= MIN_RACER_OPS)
			break;
		if (r->failure[0])
			break;
	}
	if (self->racing) {
		atomic_store(&r->stop, true);
		pthread_join(self->racer, NULL);
		self->racing = false;
	}
	ASSERT_EQ(0, r->failure[0]) TH_LOG("%s", r->failure);
	TH_LOG("%u calls (%llu of %llu ms), %llu pages done, %llu errors, %llu retries, %lu racer ops",
	       calls, (unsigned long long)ns / 1000000,
	       (unsigned long long)(now_ns() - t0) / 1000000,
	       (unsigned long long)done, (unsigned long long)errors,
	       (unsigned long long)retries, atomic_load(&r->ops));
	if (kind == R_NONE)
		ASSERT_GT(done, 0);
}

TEST_F(gup, gup_remote)
{
	run_case(_metadata, self, variant->kind, MMSCALE_GUP_REMOTE);
}

TEST_F(gup, pin)
{
	run_case(_metadata, self, variant->kind, MMSCALE_PIN);
}

TEST_F(gup, pin_longterm)
{
	run_case(_metadata, self, variant->kind, MMSCALE_PIN_LONGTERM);
}

TEST_F(gup, fixup_user_fault)
{
	run_case(_metadata, self, variant->kind, MMSCALE_FIXUP_USER_FAULT);
}

TEST_F(gup, handle_mm_fault)
{
	run_case(_metadata, self, variant->kind, MMSCALE_HANDLE_MM_FAULT);
}

TEST_HARNESS_MAIN

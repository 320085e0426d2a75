// SPDX-License-Identifier: GPL-2.0
/*
 * Sub-range holds of mmap_lock (CONFIG_MMAP_LOCK_RANGE).
 *
 * The test module holds a range of this process's mmap_lock
 * (MMSCALE_IOC_HOLD, ranged modes) for FIRST_MS in one thread; a second
 * hold, started in another thread while the first is held, shows whether
 * the two exclude each other: the module reports when each lock was taken
 * and let go (acquire_ns, release_ns, CLOCK_MONOTONIC, taken inside the
 * locked section).
 *
 *   - disjoint writers, and overlapping readers, proceed during the hold;
 *   - an overlapping writer or reader waits for a writer, and a writer
 *     waits for an overlapping reader;
 *   - the full-range lock (a plain hold, and a real mmap() of this
 *     process) waits for any sub-range hold, and a sub-range waits for a
 *     full-range hold;
 *   - the users of sub-ranges: a page fault (locked path: a shared memfd
 *     page, which speculative faults leave alone) and MADV_DONTNEED
 *     proceed during a write hold of a range in another PMD, and wait for
 *     one that overlaps the PMD of their address.
 *
 * Each case also checks that the second request really started inside
 * the first hold, so that a late start cannot pass for "proceeded" nor an
 * early one for "waited"; an attempt where it did not (a loaded machine)
 * is repeated, up to ATTEMPTS times.  Without CONFIG_MMAP_LOCK_RANGE the ranged modes
 * are EOPNOTSUPP and the cases skip.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mmscale_util.h"

#define FIRST_MS	800
#define SECOND_MS	1
#define START_DELAY_US	200000	/* after the first hold was asked for */

/* Two disjoint ranges and one that overlaps the first, in a gap. */
#define BASE		0x100000000000ULL
#define R1_START	BASE
#define R1_END		(BASE + (1ULL << 20))
#define R2_START	(BASE + (4ULL << 20))
#define R2_END		(BASE + (5ULL << 20))
#define R3_START	(BASE + (1ULL << 19))	/* overlaps R1 */
#define R3_END		(BASE + (2ULL << 20))
/* A shared memfd mapping over all of them, for faults and madvise. */
#define MAP_LEN		(6ULL << 20)

struct hold_call {
	int fd;
	struct mmscale_hold h;
	uint64_t called_ns;	/* just before the ioctl */
	int ret;
	int err;
};

static void *hold_thread(void *arg)
{
	struct hold_call *c = arg;

	c->called_ns = now_ns();
	c->ret = ioctl(c->fd, MMSCALE_IOC_HOLD, &c->h);
	c->err = errno;
	return NULL;
}

static void set_hold(struct hold_call *c, int fd, uint32_t mode,
		     uint32_t ms, uint64_t start, uint64_t end)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->h.mode = mode;
	c->h.hold_ms = ms;
	c->h.start = start;
	c->h.end = end;
}

enum second_kind { SECOND_HOLD, SECOND_MMAP, SECOND_FAULT, SECOND_DONTNEED };

enum pair_result { PAIR_OK, PAIR_FAILED, PAIR_MISSED };

#define ATTEMPTS	5

/*
 * Hold @first; during it run @second (a hold, or an mmap() of this
 * process when @kind is SECOND_MMAP).  PAIR_FAILED (logged) on a failed
 * call, PAIR_MISSED when @second did not start inside the hold (a loaded
 * machine: the case shows nothing and is tried again); fills @first and,
 * for a hold, @second.
 */
static enum pair_result run_pair(struct __test_metadata *_metadata, int fd,
		     struct hold_call *first, struct hold_call *second,
		     enum second_kind kind, uint64_t *second_done_ns)
{
	pthread_t t1;
	void *p;

	first->fd = fd;
	/* The page must be missing for the fault, and present to zap. */
	if (kind == SECOND_FAULT &&
	    madvise((void *)second->h.start, 4096, MADV_DONTNEED))
		return PAIR_FAILED;
	if (kind == SECOND_DONTNEED)
		*(volatile char *)second->h.start = 1;
	if (pthread_create(&t1, NULL, hold_thread, first))
		return PAIR_FAILED;
	usleep(START_DELAY_US);
	if (kind == SECOND_HOLD) {
		hold_thread(second);
		*second_done_ns = second->h.acquire_ns;
	} else if (kind == SECOND_FAULT) {
		second->called_ns = now_ns();
		*(volatile char *)second->h.start = 2;
		*second_done_ns = now_ns();
	} else if (kind == SECOND_DONTNEED) {
		second->called_ns = now_ns();
		second->ret = madvise((void *)second->h.start,
				      second->h.end - second->h.start,
				      MADV_DONTNEED);
		second->err = errno;
		*second_done_ns = now_ns();
	} else {
		second->called_ns = now_ns();
		p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		*second_done_ns = now_ns();
		second->ret = p == MAP_FAILED ? -1 : 0;
		second->err = errno;
		if (p != MAP_FAILED)
			munmap(p, 4096);
	}
	pthread_join(t1, NULL);
	if (first->ret) {
		TH_LOG("first hold: %s", strerror(first->err));
		return PAIR_FAILED;
	}
	if (second->ret) {
		TH_LOG("second request: %s", strerror(second->err));
		return PAIR_FAILED;
	}
	if (second->called_ns <= first->h.acquire_ns ||
	    second->called_ns >= first->h.release_ns) {
		TH_LOG("second request at %llu, outside the first hold [%llu, %llu]",
		       (unsigned long long)second->called_ns,
		       (unsigned long long)first->h.acquire_ns,
		       (unsigned long long)first->h.release_ns);
		return PAIR_MISSED;
	}
	return PAIR_OK;
}

FIXTURE(range) {
	int fd;
};

FIXTURE_VARIANT(range) {
	uint32_t first_mode;
	uint64_t first_start, first_end;
	enum second_kind kind;
	uint32_t second_mode;
	uint64_t second_start, second_end;
	bool must_wait;
};

FIXTURE_SETUP(range)
{
	self->fd = -1;
}

FIXTURE_TEARDOWN(range)
{
	if (self->fd >= 0)
		close(self->fd);
}

FIXTURE_VARIANT_ADD(range, disjoint_writers_proceed) {
	.first_mode = MMSCALE_HOLD_RANGE_WRITE,
	.first_start = R1_START, .first_end = R1_END,
	.second_mode = MMSCALE_HOLD_RANGE_WRITE,
	.second_start = R2_START, .second_end = R2_END,
	.must_wait = false,
};

FIXTURE_VARIANT_ADD(range, adjacent_writers_proceed) {
	.first_mode = MMSCALE_HOLD_RANGE_WRITE,
	.first_start = R1_START, .first_end = R1_END,
	.second_mode = MMSCALE_HOLD_RANGE_WRITE,
	.second_start = R1_END, .second_end = R1_END + 4096,
	.must_wait = false,
};

FIXTURE_VARIANT_ADD(range, overlapping_readers_share) {
	.first_mode = MMSCALE_HOLD_RANGE_READ,
	.first_start = R1_START, .first_end = R1_END,
	.second_mode = MMSCALE_HOLD_RANGE_READ,
	.second_start = R3_START, .second_end = R3_END,
	.must_wait = false,
};

FIXTURE_VARIANT_ADD(range, full_reader_shares_with_range_reader) {
	.first_mode = MMSCALE_HOLD_RANGE_READ,
	.first_start = R1_START, .first_end = R1_END,
	.second_mode = MMSCALE_HOLD_READ,
	.must_wait = false,
};

FIXTURE_VARIANT_ADD(range, overlapping_writer_waits) {
	.first_mode = MMSCALE_HOLD_RANGE_WRITE,
	.first_start = R1_START, .first_end = R1_END,
	.second_mode = MMSCALE_HOLD_RANGE_WRITE,
	.second_start = R3_START, .second_end = R3_END,
	.must_wait = true,
};

FIXTURE_VARIANT_ADD(range, reader_waits_for_overlapping_writer) {
	.first_mode = MMSCALE_HOLD_RANGE_WRITE,
	.first_start = R1_START, .first_end = R1_END,
	.second_mode = MMSCALE_HOLD_RANGE_READ,
	.second_start = R3_START, .second_end = R3_END,
	.must_wait = true,
};

FIXTURE_VARIANT_ADD(range, writer_waits_for_overlapping_reader) {
	.first_mode = MMSCALE_HOLD_RANGE_READ,
	.first_start = R1_START, .first_end = R1_END,
	.second_mode = MMSCALE_HOLD_RANGE_WRITE,
	.second_start = R3_START, .second_end = R3_END,
	.must_wait = true,
};

FIXTURE_VARIANT_ADD(range, full_writer_waits_for_range) {
	.first_mode = MMSCALE_HOLD_RANGE_READ,
	.first_start = R1_START, .first_end = R1_END,
	.second_mode = MMSCALE_HOLD_WRITE,
	.must_wait = true,
};

FIXTURE_VARIANT_ADD(range, full_reader_waits_for_range_writer) {
	.first_mode = MMSCALE_HOLD_RANGE_WRITE,
	.first_start = R1_START, .first_end = R1_END,
	.second_mode = MMSCALE_HOLD_READ,
	.must_wait = true,
};

FIXTURE_VARIANT_ADD(range, range_waits_for_full_writer) {
	.first_mode = MMSCALE_HOLD_WRITE,
	.second_mode = MMSCALE_HOLD_RANGE_READ,
	.second_start = R2_START, .second_end = R2_END,
	.must_wait = true,
};

FIXTURE_VARIANT_ADD(range, mmap_waits_for_range_writer) {
	.first_mode = MMSCALE_HOLD_RANGE_WRITE,
	.first_start = R1_START, .first_end = R1_END,
	.kind = SECOND_MMAP,
	.must_wait = true,
};

FIXTURE_VARIANT_ADD(range, fault_in_other_pmd_proceeds) {
	.first_mode = MMSCALE_HOLD_RANGE_WRITE,
	.first_start = R1_START, .first_end = R1_END,
	.kind = SECOND_FAULT,
	.second_start = R2_START, .second_end = R2_START + 4096,
	.must_wait = false,
};

FIXTURE_VARIANT_ADD(range, fault_waits_for_writer_in_its_pmd) {
	.first_mode = MMSCALE_HOLD_RANGE_WRITE,
	.first_start = R1_START, .first_end = R1_END,
	.kind = SECOND_FAULT,
	/* Outside R1, but in the same PMD: the fault locks the PMD. */
	.second_start = R1_END, .second_end = R1_END + 4096,
	.must_wait = true,
};

FIXTURE_VARIANT_ADD(range, dontneed_in_other_pmd_proceeds) {
	.first_mode = MMSCALE_HOLD_RANGE_WRITE,
	.first_start = R1_START, .first_end = R1_END,
	.kind = SECOND_DONTNEED,
	.second_start = R2_START, .second_end = R2_START + (64 << 10),
	.must_wait = false,
};

FIXTURE_VARIANT_ADD(range, dontneed_waits_for_overlapping_writer) {
	.first_mode = MMSCALE_HOLD_RANGE_WRITE,
	.first_start = R1_START, .first_end = R1_END,
	.kind = SECOND_DONTNEED,
	.second_start = R3_START, .second_end = R3_START + (64 << 10),
	.must_wait = true,
};

TEST_F(range, pair)
{
	enum pair_result res = PAIR_MISSED;
	struct hold_call first, second, probe;
	uint64_t done_ns = 0;
	int attempt;

	self->fd = mmscale_open_or_skip();
	if (!(mmscale_features(self->fd) & MMSCALE_FEAT_MMAP_LOCK_RANGE))
		SKIP(return, "kernel without CONFIG_MMAP_LOCK_RANGE");
	/* The ranged modes must work at all. */
	set_hold(&probe, self->fd, MMSCALE_HOLD_RANGE_READ, 1, R1_START,
		 R1_END);
	hold_thread(&probe);
	ASSERT_EQ(0, probe.ret) TH_LOG("ranged hold: %s", strerror(probe.err));
	if (variant->kind == SECOND_FAULT || variant->kind == SECOND_DONTNEED) {
		int mfd = memfd_create("range_hold", 0);
		void *p;

		ASSERT_LE(0, mfd);
		ASSERT_EQ(0, ftruncate(mfd, MAP_LEN));
		p = mmap((void *)BASE, MAP_LEN, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED_NOREPLACE, mfd, 0);
		close(mfd);
		ASSERT_EQ((void *)BASE, p) TH_LOG("mmap: %s", strerror(errno));
	}

	for (attempt = 0; attempt < ATTEMPTS && res == PAIR_MISSED; attempt++) {
		set_hold(&first, self->fd, variant->first_mode, FIRST_MS,
			 variant->first_start, variant->first_end);
		set_hold(&second, self->fd, variant->second_mode, SECOND_MS,
			 variant->second_start, variant->second_end);
		res = run_pair(_metadata, self->fd, &first, &second,
			       variant->kind, &done_ns);
	}
	ASSERT_EQ(PAIR_OK, res) TH_LOG("%d attempts", attempt);

	TH_LOG("first held [%llu, %llu] ms, second done at %llu ms",
	       (unsigned long long)(first.h.acquire_ns / 1000000),
	       (unsigned long long)(first.h.release_ns / 1000000),
	       (unsigned long long)(done_ns / 1000000));
	if (variant->kind == SECOND_FAULT || variant->kind == SECOND_DONTNEED)
		munmap((void *)BASE, MAP_LEN);
	if (variant->must_wait) {
		ASSERT_GE(done_ns, first.h.release_ns);
	} else {
		ASSERT_LT(done_ns, first.h.release_ns);
	}
}

TEST_HARNESS_MAIN

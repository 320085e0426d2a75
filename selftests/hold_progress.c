// SPDX-License-Identifier: GPL-2.0
/*
 * Progress of page faults while mmap_lock is held for write.
 *
 * The defining property of speculative page faults: a thread that faults
 * fresh anonymous pages keeps going while another thread holds mmap_lock
 * for write (here the test module, MMSCALE_IOC_HOLD, for HOLD_MS) without
 * touching the faulting VMA.  Without them, the same fault waits for the
 * lock: that case runs on every kernel (on one with speculative faults,
 * with vm.speculative_page_fault = 0) and shows that the hold works.
 *
 * A faulter thread writes one word to each page of a fresh region and
 * records when each fault started and ended.  The hold reports when the
 * lock was taken (acquire_ns) and when it was let go (release_ns); both are
 * CLOCK_MONOTONIC, taken inside the locked section.
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

#define HOLD_MS		500
#define MAX_LATENCY_NS	(50 * 1000000ULL)
#define REGION_PAGES	8192	/* 32 MiB with 4 KiB pages */
#define PTE_TABLE_PAGES	512	/* pages per page table on x86-64 */
#define ATTEMPTS	5
#define SPF_SYSCTL	"/proc/sys/vm/speculative_page_fault"

struct fault_rec {
	uint64_t start;
	uint64_t end;
};

struct faulter {
	char *region;
	struct fault_rec *rec;	/* one per page, prefaulted */
	pthread_barrier_t go;
	atomic_bool stop;
	size_t nr_done;
};

/*
 * The pages touched before the hold: the first one and the first one under
 * each page table, so that the region has its anon_vma and page tables and
 * what is measured is the plain anonymous fault on a missing PTE.
 */
static bool pretouched(const char *region, size_t i)
{
	return !i || ((uintptr_t)(region + i * PAGE_SZ) / PAGE_SZ) %
		     PTE_TABLE_PAGES == 0;
}

static void prefault_stack(void)
{
	volatile char buf[64 * 1024];

	memset((char *)buf, 0, sizeof(buf));
}

static void *faulter_fn(void *arg)
{
	struct faulter *f = arg;
	size_t i, page = PAGE_SZ;

	/* Nothing but the region may fault once the hold has started. */
	prefault_stack();
	now_ns();

	pthread_barrier_wait(&f->go);
	for (i = 0; i < REGION_PAGES && !atomic_load(&f->stop); i++) {
		if (pretouched(f->region, i))
			continue;
		f->rec[i].start = now_ns();
		*(volatile char *)(f->region + i * page) = 1;
		f->rec[i].end = now_ns();
	}
	f->nr_done = i;
	return NULL;
}

struct hold_result {
	bool active;		/* the faulter was at work during the hold */
	bool at_mid;		/* a fault was in flight in its middle */
	bool blocked;		/* and that fault ended after the hold */
	size_t inside;		/* faults that began and ended in the hold */
	uint64_t max_latency;	/* of the faults begun during the hold */
	uint64_t hold_ns;
};

/* Fault a fresh region while the module write-holds our mmap_lock. */
static int hold_and_fault(int fd, struct hold_result *res)
{
	size_t len = REGION_PAGES * PAGE_SZ, i;
	struct mmscale_hold hold = {
		.mode = MMSCALE_HOLD_WRITE,
		.hold_ms = HOLD_MS,
	};
	struct faulter f = { 0 };
	pthread_t thread;
	uint64_t acq, rel, mid;
	int ret;

	memset(res, 0, sizeof(*res));
	f.region = map_anon(len);
	f.rec = calloc(REGION_PAGES, sizeof(*f.rec));
	if (!f.region || !f.rec) {
		ret = -ENOMEM;
		goto out;
	}
	/* calloc() may not have touched it: fault it in now. */
	memset(f.rec, 0, REGION_PAGES * sizeof(*f.rec));
	for (i = 0; i < REGION_PAGES; i++)
		if (pretouched(f.region, i))
			f.region[i * PAGE_SZ] = 1;

	pthread_barrier_init(&f.go, NULL, 2);
	atomic_init(&f.stop, false);
	ret = -pthread_create(&thread, NULL, faulter_fn, &f);
	if (ret) {
		pthread_barrier_destroy(&f.go);
		goto out;
	}

	pthread_barrier_wait(&f.go);
	ret = ioctl(fd, MMSCALE_IOC_HOLD, &hold) ? -errno : 0;
	atomic_store(&f.stop, true);
	pthread_join(thread, NULL);
	pthread_barrier_destroy(&f.go);
	if (ret)
		goto out;

	acq = hold.acquire_ns;
	rel = hold.release_ns;
	mid = acq + (rel - acq) / 2;
	res->hold_ns = rel - acq;
	for (i = 0; i < f.nr_done; i++) {
		struct fault_rec *r = &f.rec[i];

		if (!r->start)
			continue;
		if (r->start < rel && r->end >= acq)
			res->active = true;
		/*
		 * Without speculative faults, a fault in flight in the
		 * middle of the hold can only end after it.
		 */
		if (r->start < mid && r->end >= mid) {
			res->at_mid = true;
			if (r->end >= rel)
				res->blocked = true;
		}
		if (r->start > acq && r->end < rel)
			res->inside++;
		if (r->start >= acq && r->start < rel &&
		    r->end - r->start > res->max_latency)
			res->max_latency = r->end - r->start;
	}
out:
	if (f.region)
		munmap(f.region, len);
	free(f.rec);
	return ret;
}

static int sysctl_read(const char *path)
{
	FILE *file = fopen(path, "r");
	int val = -1;

	if (!file)
		return -1;
	if (fscanf(file, "%d", &val) != 1)
		val = -1;
	fclose(file);
	return val;
}

static int sysctl_write(const char *path, int val)
{
	FILE *file = fopen(path, "w");
	int ret;

	if (!file)
		return -1;
	ret = fprintf(file, "%d\n", val) < 0;
	ret |= fclose(file) != 0;
	return ret ? -1 : 0;
}

FIXTURE(hold) {
	int fd;
	uint64_t features;
	int saved_spf;		/* sysctl value to restore, -1: untouched */
};

FIXTURE_SETUP(hold)
{
	self->fd = -1;
	self->saved_spf = -1;
}

FIXTURE_TEARDOWN(hold)
{
	if (self->saved_spf >= 0)
		sysctl_write(SPF_SYSCTL, self->saved_spf);
	if (self->fd >= 0)
		close(self->fd);
}

/* Set the speculative fault sysctl for this test; teardown restores it. */
static int spf_set(FIXTURE_DATA(hold) *self, int val)
{
	int old = sysctl_read(SPF_SYSCTL);

	if (old < 0)
		return -1;
	if (self->saved_spf < 0)
		self->saved_spf = old;
	return sysctl_write(SPF_SYSCTL, val);
}

/*
 * The faulter may miss the hold (it is a thread like any other): try
 * again until it was at work in the way @at_mid asks for.
 */
static void run_attempts(struct __test_metadata *_metadata, int fd,
			 bool at_mid, struct hold_result *res)
{
	int i;

	for (i = 0; i < ATTEMPTS; i++) {
		ASSERT_EQ(0, hold_and_fault(fd, res));
		if (at_mid ? res->at_mid : res->active)
			return;
		TH_LOG("attempt %d: the faulter missed the hold, again", i);
	}
	ASSERT_TRUE(false) TH_LOG("the faulter never ran during the hold");
}

/*
 * Runs everywhere: without speculative faults, a fault that meets the
 * write-held mmap_lock waits for it, and none begins and ends within it.
 */
TEST_F_TIMEOUT(hold, fault_waits_for_lock, 60)
{
	struct hold_result res;

	self->fd = mmscale_open_or_skip();
	self->features = mmscale_features(self->fd);
	if (self->features & MMSCALE_FEAT_SPF)
		ASSERT_EQ(0, spf_set(self, 0))
			TH_LOG("cannot switch off speculative faults: %s",
			       SPF_SYSCTL);

	run_attempts(_metadata, self->fd, true, &res);
	TH_LOG("hold %llu ms, faults inside %zu, blocked %d",
	       (unsigned long long)res.hold_ns / 1000000, res.inside,
	       res.blocked);
	ASSERT_GE(res.hold_ns, HOLD_MS * 1000000ULL * 9 / 10);
	EXPECT_EQ(0, res.inside);
	EXPECT_TRUE(res.blocked);
}

TEST_F_TIMEOUT(hold, fault_progress_during_hold, 60)
{
	struct hold_result res;

	self->fd = mmscale_open_or_skip();
	self->features = mmscale_features(self->fd);
	if (!(self->features & MMSCALE_FEAT_SPF))
		SKIP(return, "kernel lacks speculative page faults");
	ASSERT_EQ(0, spf_set(self, 1))
		TH_LOG("cannot switch on speculative faults: %s", SPF_SYSCTL);

	run_attempts(_metadata, self->fd, false, &res);
	TH_LOG("hold %llu ms, faults inside %zu, max latency %llu us",
	       (unsigned long long)res.hold_ns / 1000000, res.inside,
	       (unsigned long long)res.max_latency / 1000);
	EXPECT_GT(res.inside, 0);
	EXPECT_LT(res.max_latency, MAX_LATENCY_NS);
}

/*
 * fork() while another thread holds mmap_lock for write.  The child's
 * copies of the VMAs carry the parent's count of mmap_lock holds, and the
 * child's count must go on from there: when it lagged behind, the copies
 * looked marked by the child's current hold (spf_abort_vma_busy) until the
 * child had taken its own mmap_lock as often as the parent while fork()
 * waited, and a later hold could skip the mark of a copy that a
 * speculative fault must see.  The child faults an inherited region before
 * it takes mmap_lock at all: each fault must finish speculatively.
 */
#define FORK_PAGES	64
#define FORK_HOLD_MS	500

struct fork_hold {
	int fd;
	struct mmscale_hold hold;
	int ret;
};

static void *fork_hold_fn(void *arg)
{
	struct fork_hold *h = arg;

	h->ret = ioctl(h->fd, MMSCALE_IOC_HOLD, &h->hold) ? -errno : 0;
	return NULL;
}

/* The child's counters, in shared memory. */
struct fork_counts {
	long busy;
	long spf;
};

/*
 * Fork during a hold of @fd and let the child fault @region's first
 * FORK_PAGES pages.  True if fork() began during the hold; the counters'
 * growth from before the hold to the child's last fault in @busy, @spf.
 */
static bool fork_in_hold(struct __test_metadata *_metadata, int fd,
			 char *region, struct fork_counts *child,
			 long *busy, long *spf)
{
	struct fork_hold h = {
		.fd = fd,
		.hold = { .mode = MMSCALE_HOLD_WRITE, .hold_ms = FORK_HOLD_MS },
	};
	long busy0, spf0;
	pthread_t thread;
	uint64_t forked;
	int i, status;
	pid_t pid;

	child->busy = child->spf = -1;
	busy0 = mmscale_vmstat("spf_abort_vma_busy");
	spf0 = mmscale_vmstat("spf_success");
	/* A fault of the parent must not wait for the hold. */
	prefault_stack();
	ASSERT_EQ(0, pthread_create(&thread, NULL, fork_hold_fn, &h));
	/* Long enough for the hold to begin, even on a debug kernel. */
	usleep(FORK_HOLD_MS * 1000 * 2 / 5);
	forked = now_ns();
	pid = fork();
	if (!pid) {
		for (i = 0; i < FORK_PAGES; i++)
			region[i * PAGE_SZ] = 1;
		child->busy = mmscale_vmstat("spf_abort_vma_busy");
		child->spf = mmscale_vmstat("spf_success");
		_exit(0);
	}
	pthread_join(thread, NULL);
	ASSERT_NE(-1, pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	ASSERT_EQ(0, h.ret);
	*busy = child->busy - busy0;
	*spf = child->spf - spf0;
	return h.hold.acquire_ns < forked && forked < h.hold.release_ns;
}

TEST_F_TIMEOUT(hold, fork_copies_not_marked, 60)
{
	size_t len = (FORK_PAGES + 1) * PAGE_SZ;
	struct fork_counts *child;
	long busy = 0, spf = 0;
	bool in_hold = false;
	char *region;
	int i;

	self->fd = mmscale_open_or_skip();
	self->features = mmscale_features(self->fd);
	if (!(self->features & MMSCALE_FEAT_SPF))
		SKIP(return, "kernel lacks speculative page faults");
	if (mmscale_vmstat("spf_abort_vma_busy") < 0)
		SKIP(return, "no spf_abort_vma_busy in /proc/vmstat");
	ASSERT_EQ(0, spf_set(self, 1))
		TH_LOG("cannot switch on speculative faults: %s", SPF_SYSCTL);

	child = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, child);
	for (i = 0; i < ATTEMPTS && !in_hold; i++) {
		region = map_anon(len);
		ASSERT_NE(NULL, region);
		/* Its anon_vma, which the child inherits. */
		region[FORK_PAGES * PAGE_SZ] = 1;
		in_hold = fork_in_hold(_metadata, self->fd, region, child,
				       &busy, &spf);
		munmap(region, len);
		if (!in_hold)
			TH_LOG("attempt %d: fork() missed the hold, again", i);
	}
	munmap(child, PAGE_SZ);
	ASSERT_TRUE(in_hold) TH_LOG("fork() never began during the hold");
	TH_LOG("%d faults in the child: spf_success +%ld, spf_abort_vma_busy +%ld",
	       FORK_PAGES, spf, busy);
	EXPECT_GE(spf, FORK_PAGES);
	EXPECT_LT(busy, FORK_PAGES / 2);
}

TEST_HARNESS_MAIN

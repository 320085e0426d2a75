// SPDX-License-Identifier: GPL-2.0
/*
 * Speculative page faults and MMU notifiers.
 *
 * A secondary MMU (KVM) must see the end of every invalidation after its
 * start (module/mmscale_notifier.c).  A speculative fault holds no
 * mmap_lock, so it cannot keep a notifier from being registered while it
 * runs: the series has it start no invalidation, and abort when the mm has
 * a notifier (spf_abort_notifier), so that copy-on-write faults go to the
 * locked path while one is registered.
 *
 * cow.declined: with the module's notifier registered, write faults that
 * copy (the zero page, or a page shared with a forked child) are declined
 * as spf_abort_notifier and done by the locked path, whose invalidations
 * the notifier sees in pairs; without the notifier the same faults finish
 * speculatively.  The copies hold what was written, the child's pages
 * what it inherited.
 *
 * register_race: threads copy the zero page on write, over and over, while
 * the main thread registers and unregisters the notifier.  No
 * unregistration may report an end without a start, nor a PTE change
 * (->invalidate_range()) outside a start and an end: a registration marks
 * every VMA, so a speculative copy in flight looks its VMA up again and
 * must then see the notifier.  The copies must have run both ways,
 * speculatively between registrations and declined during them, or the
 * race did not happen.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mmscale_util.h"

#define COW_PAGES	64
#define OLD_VAL		0x11
#define NEW_VAL		0x22

/* Open the module, or SKIP unless it can register notifiers and SPF is on. */
#define notifier_open_or_skip() ({					\
	int __nfd = mmscale_open_or_skip();				\
	uint64_t __need = MMSCALE_FEAT_SPF | MMSCALE_FEAT_MMU_NOTIFIER;	\
									\
	if ((mmscale_features(__nfd) & __need) != __need) {		\
		close(__nfd);						\
		SKIP(return, "kernel lacks speculative page faults or MMU notifiers"); \
	}								\
	if (!sysctl_on("/proc/sys/vm/speculative_page_fault")) {	\
		close(__nfd);						\
		SKIP(return, "vm.speculative_page_fault is off");	\
	}								\
	__nfd;								\
})

static int notifier_op(int fd, uint32_t op, struct mmscale_notifier *n)
{
	memset(n, 0, sizeof(*n));
	n->op = op;
	return ioctl(fd, MMSCALE_IOC_NOTIFIER, n);
}

enum cow_kind { COW_ZERO, COW_FORK };

struct cow_run {
	long aborts;		/* spf_abort_notifier during the writes */
	long spf;		/* spf_success during the writes */
	bool data_ok;		/* the parent's and the child's pages */
};

/*
 * Map COW_PAGES pages (and one more, written first), make each
 * copy-on-write (the zero page mapped by a read, or a written page shared
 * with a forked child), write every page once and count how those write
 * faults went.  NULL, or what failed.
 */
static const char *cow_run(enum cow_kind kind, struct cow_run *run)
{
	size_t len = (COW_PAGES + 1) * PAGE_SZ;
	int go[2], status, i;
	volatile char *p;
	long aborts0, spf0;
	pid_t child = -1;
	char c = 0;

	p = map_anon(len);
	if (!p)
		return "mmap";
	/* Its anon_vma: a VMA's first write fault is left to the locked path. */
	p[COW_PAGES * PAGE_SZ] = OLD_VAL;
	for (i = 0; i < COW_PAGES; i++) {
		if (kind == COW_ZERO)
			c += p[i * PAGE_SZ];
		else
			p[i * PAGE_SZ] = OLD_VAL;
	}
	if (kind == COW_FORK) {
		if (pipe(go))
			return "pipe";
		child = fork();
		if (child < 0)
			return "fork";
		if (!child) {
			/* Wait for the parent's writes, then check ours. */
			close(go[1]);
			if (read(go[0], &c, 1) != 1)
				_exit(2);
			for (i = 0; i < COW_PAGES; i++)
				if (p[i * PAGE_SZ] != OLD_VAL)
					_exit(1);
			_exit(0);
		}
		close(go[0]);
	}

	aborts0 = mmscale_vmstat("spf_abort_notifier");
	spf0 = mmscale_vmstat("spf_success");
	for (i = 0; i < COW_PAGES; i++)
		p[i * PAGE_SZ] = NEW_VAL;
	run->aborts = mmscale_vmstat("spf_abort_notifier") - aborts0;
	run->spf = mmscale_vmstat("spf_success") - spf0;

	run->data_ok = c == 0;
	for (i = 0; i < COW_PAGES; i++)
		if (p[i * PAGE_SZ] != NEW_VAL)
			run->data_ok = false;
	if (child > 0) {
		if (write(go[1], "g", 1) != 1)
			kill(child, SIGKILL);
		close(go[1]);
		if (waitpid(child, &status, 0) != child)
			return "waitpid";
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			run->data_ok = false;
	}
	munmap((void *)p, len);
	return NULL;
}

FIXTURE(cow) {
	int fd;
};

FIXTURE_VARIANT(cow) {
	enum cow_kind kind;
};

FIXTURE_VARIANT_ADD(cow, zero_page) { .kind = COW_ZERO };
FIXTURE_VARIANT_ADD(cow, forked) { .kind = COW_FORK };

FIXTURE_SETUP(cow)
{
	self->fd = -1;	/* the test opens it: a SKIP here would not stop it */
}

FIXTURE_TEARDOWN(cow)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(cow, declined)
{
	struct mmscale_notifier n;
	struct cow_run without, with;
	const char *why;

	self->fd = notifier_open_or_skip();
	/* Without a notifier the copies go speculatively... */
	why = cow_run(variant->kind, &without);
	ASSERT_EQ(NULL, why) TH_LOG("%s: %s", why, strerror(errno));
	TH_LOG("no notifier: spf_abort_notifier +%ld, spf_success +%ld",
	       without.aborts, without.spf);
	ASSERT_TRUE(without.data_ok);
	ASSERT_EQ(0, without.aborts);
	ASSERT_GE(without.spf, COW_PAGES * 9 / 10);

	/* ...with one, every copy is declined and done under mmap_lock. */
	ASSERT_EQ(0, notifier_op(self->fd, MMSCALE_NOTIFIER_REGISTER, &n))
		TH_LOG("register: %s", strerror(errno));
	why = cow_run(variant->kind, &with);
	ASSERT_EQ(0, notifier_op(self->fd, MMSCALE_NOTIFIER_UNREGISTER, &n))
		TH_LOG("unregister: %s", strerror(errno));
	ASSERT_EQ(NULL, why) TH_LOG("%s: %s", why, strerror(errno));
	TH_LOG("notifier: spf_abort_notifier +%ld, spf_success +%ld",
	       with.aborts, with.spf);
	TH_LOG("invalidations: %llu starts, %llu ends, %llu unmatched",
	       (unsigned long long)n.starts,
	       (unsigned long long)n.ends, (unsigned long long)n.unmatched);
	ASSERT_TRUE(with.data_ok);
	ASSERT_GE(with.aborts, COW_PAGES);
	ASSERT_LT(with.spf, COW_PAGES);
	/* One invalidation per copy, each ended. */
	ASSERT_GE(n.starts, COW_PAGES);
	ASSERT_EQ(n.starts, n.ends);
	ASSERT_EQ(0, n.unmatched);
}

/*
 * register_race: each faulter maps the zero page into RACE_PAGES pages by
 * reading them, copies it by writing them, and zaps them, until told to
 * stop.  The main thread registers the notifier, waits a little, and
 * unregisters it, RACE_ROUNDS times or for RACE_NS.
 */
#define RACE_FAULTERS	2
#define RACE_PAGES	64
#define RACE_ROUNDS	300
#define RACE_NS		(4 * 1000000000ULL)

struct race_faulter {
	atomic_bool *stop;
	long copies;
	int err;
};

static void *race_faulter_fn(void *arg)
{
	struct race_faulter *f = arg;
	size_t len = RACE_PAGES * PAGE_SZ;
	volatile char *p = map_anon(len);
	char c = 0;
	int i;

	if (!p) {
		f->err = errno;
		return NULL;
	}
	while (!atomic_load(f->stop)) {
		for (i = 0; i < RACE_PAGES; i++)
			c += p[i * PAGE_SZ];
		for (i = 0; i < RACE_PAGES; i++)
			p[i * PAGE_SZ] = NEW_VAL;
		for (i = 0; i < RACE_PAGES; i++)
			if (p[i * PAGE_SZ] != NEW_VAL)
				f->err = EIO;
		f->copies += RACE_PAGES;
		if (madvise((void *)p, len, MADV_DONTNEED))
			f->err = errno;
		if (f->err)
			break;
	}
	if (c)
		f->err = EIO;	/* the zero page was not zero */
	munmap((void *)p, len);
	return NULL;
}

TEST(register_race)
{
	struct race_faulter f[RACE_FAULTERS];
	pthread_t thread[RACE_FAULTERS];
	unsigned long long starts = 0, ends = 0, strays = 0;
	long aborts0, spf0, aborts, spf, copies = 0;
	struct mmscale_notifier n;
	atomic_bool stop;
	int fd, i, round;
	uint64_t end;

	fd = notifier_open_or_skip();
	atomic_init(&stop, false);
	aborts0 = mmscale_vmstat("spf_abort_notifier");
	spf0 = mmscale_vmstat("spf_success");
	for (i = 0; i < RACE_FAULTERS; i++) {
		f[i] = (struct race_faulter){ .stop = &stop };
		ASSERT_EQ(0, pthread_create(&thread[i], NULL, race_faulter_fn,
					    &f[i]));
	}

	end = now_ns() + RACE_NS;
	for (round = 0; round < RACE_ROUNDS && now_ns() < end; round++) {
		if (notifier_op(fd, MMSCALE_NOTIFIER_REGISTER, &n))
			break;
		usleep(1000);
		if (notifier_op(fd, MMSCALE_NOTIFIER_UNREGISTER, &n))
			break;
		starts += n.starts;
		ends += n.ends;
		strays += n.strays;
		if (n.unmatched)
			break;
		usleep(1000);
	}
	atomic_store(&stop, true);
	for (i = 0; i < RACE_FAULTERS; i++) {
		pthread_join(thread[i], NULL);
		copies += f[i].copies;
	}
	aborts = mmscale_vmstat("spf_abort_notifier") - aborts0;
	spf = mmscale_vmstat("spf_success") - spf0;
	close(fd);

	TH_LOG("%d registrations beside %ld copies: %llu starts, %llu ends, %llu strays; spf_abort_notifier +%ld, spf_success +%ld",
	       round, copies, starts, ends, strays, aborts, spf);
	/* Braces: the assertion must end the loop, not follow it. */
	for (i = 0; i < RACE_FAULTERS; i++) {
		ASSERT_EQ(0, f[i].err)
			TH_LOG("faulter %d: %s", i, strerror(f[i].err));
	}
	ASSERT_EQ(0, n.unmatched)
		TH_LOG("round %d: an invalidation ended that never started",
		       round);
	/*
	 * No copy changed a PTE while the notifier was registered without
	 * an invalidation around it (a speculative copy that committed
	 * after a registration, see wp_page_copy()).
	 */
	ASSERT_EQ(0, strays);
	ASSERT_GT(round, 0) TH_LOG("notifier: %s", strerror(errno));
	/* Every round ran to its end, not stopped by an error. */
	ASSERT_TRUE(round == RACE_ROUNDS || now_ns() >= end)
		TH_LOG("round %d: %s", round, strerror(errno));
	/* The faults ran both ways, so registrations met them. */
	ASSERT_GT(aborts, 0);
	ASSERT_GT(spf, 0);
}

TEST_HARNESS_MAIN

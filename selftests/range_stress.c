// SPDX-License-Identifier: GPL-2.0
/*
 * range_lock under stress, through the test module (MMSCALE_IOC_RANGE_STRESS):
 * kernel threads lock random ranges of one range_lock_tree, for read and for
 * write, and an overlap checker that does not trust the tree counts every
 * pair of conflicting ranges held at the same time.  There must be none.
 *
 *   bad_args	each argument out of range: EINVAL, with or without
 *		range_lock (checked before anything else)
 *   stress	2 and 4 threads, all reads, some writes, all writes, on a
 *		space of 64 (ranges collide all the time) and of ULONG_MAX
 *		(lengths from 1 to all of it): acquisitions, no violation
 *   killed	a caller killed during a long run returns early, and its
 *		kernel threads are gone by the time it has been reaped
 *
 * Kernels without CONFIG_RANGE_LOCK answer EOPNOTSUPP: the last two skip.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mmscale_util.h"

#define KTHREAD_PREFIX	"mmscale_rs/"	/* the module's worker threads */
#define KILLED_RUN_MS	60000
#define KILLED_MAX_NS	(10 * 1000000000ULL)
#define START_MAX_NS	(10 * 1000000000ULL)

static const struct mmscale_range_stress valid_args = {
	.nr_threads = 1,
	.duration_ms = 1,
	.write_pct = 50,
	.space = 1024,
};

/* Open the control file and learn whether it has range_lock, or SKIP. */
#define open_with_range_lock_or_skip(fd) do {				\
	(fd) = mmscale_open_or_skip();					\
	if (!(mmscale_features(fd) & MMSCALE_FEAT_RANGE_LOCK)) {	\
		struct mmscale_range_stress __s = valid_args;		\
									\
		ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_RANGE_STRESS, &__s)); \
		ASSERT_EQ(EOPNOTSUPP, errno);				\
		SKIP(return, "kernel without range_lock (CONFIG_RANGE_LOCK)"); \
	}								\
} while (0)

/* The number of the module's worker threads alive now. */
static int count_workers(void)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!proc)
		return -1;
	while ((de = readdir(proc))) {
		char path[sizeof("/proc//comm") + sizeof(de->d_name)];
		char comm[32] = "";
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;	/* gone meanwhile */
		if (fgets(comm, sizeof(comm), f) &&
		    !strncmp(comm, KTHREAD_PREFIX, strlen(KTHREAD_PREFIX)))
			n++;
		fclose(f);
	}
	closedir(proc);
	return n;
}

FIXTURE(bad_args) {
	int fd;
};

FIXTURE_VARIANT(bad_args) {
	void (*breakit)(struct mmscale_range_stress *s);
};

#define BAD(name, body)							\
	static void break_##name(struct mmscale_range_stress *s) { body; } \
	FIXTURE_VARIANT_ADD(bad_args, name) {				\
		.breakit = break_##name,				\
	}

BAD(zero_threads, s->nr_threads = 0);
BAD(65_threads, s->nr_threads = 65);
BAD(zero_duration, s->duration_ms = 0);
BAD(long_duration, s->duration_ms = 60001);
BAD(write_pct_101, s->write_pct = 101);
BAD(zero_space, s->space = 0);
BAD(space_of_one, s->space = 1);
BAD(reserved, s->__reserved = 1);

FIXTURE_SETUP(bad_args)
{
	self->fd = -1;
}

FIXTURE_TEARDOWN(bad_args)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(bad_args, einval)
{
	struct mmscale_range_stress s = valid_args;

	self->fd = mmscale_open_or_skip();
	variant->breakit(&s);
	ASSERT_EQ(-1, ioctl(self->fd, MMSCALE_IOC_RANGE_STRESS, &s));
	ASSERT_EQ(EINVAL, errno) TH_LOG("got %s", strerror(errno));
}

FIXTURE(stress) {
	int fd;
};

FIXTURE_VARIANT(stress) {
	unsigned int nr_threads;
	unsigned int duration_ms;
	unsigned int write_pct;
	unsigned long space;
};

#define STRESS(name, threads, ms, pct, sp)				\
	FIXTURE_VARIANT_ADD(stress, name) {				\
		.nr_threads = threads, .duration_ms = ms,		\
		.write_pct = pct, .space = sp,				\
	}

STRESS(t2_read_small, 2, 500, 0, 64);
STRESS(t2_mixed_small, 2, 500, 30, 64);
STRESS(t2_write_small, 2, 500, 100, 64);
STRESS(t2_read_huge, 2, 500, 0, ULONG_MAX);
STRESS(t2_mixed_huge, 2, 500, 30, ULONG_MAX);
STRESS(t2_write_huge, 2, 500, 100, ULONG_MAX);
STRESS(t4_read_small, 4, 1000, 0, 64);
STRESS(t4_mixed_small, 4, 1000, 30, 64);
STRESS(t4_write_small, 4, 1000, 100, 64);
STRESS(t4_read_huge, 4, 1000, 0, ULONG_MAX);
STRESS(t4_mixed_huge, 4, 1000, 30, ULONG_MAX);
STRESS(t4_write_huge, 4, 1000, 100, ULONG_MAX);

FIXTURE_SETUP(stress)
{
	self->fd = -1;
}

FIXTURE_TEARDOWN(stress)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(stress, no_overlap)
{
	struct mmscale_range_stress s = {
		.nr_threads = variant->nr_threads,
		.duration_ms = variant->duration_ms,
		.write_pct = variant->write_pct,
		.space = variant->space,
		.seed = mmscale_seed(),
	};
	uint64_t t0;

	open_with_range_lock_or_skip(self->fd);
	t0 = now_ns();
	ASSERT_EQ(0, ioctl(self->fd, MMSCALE_IOC_RANGE_STRESS, &s))
		TH_LOG("MMSCALE_IOC_RANGE_STRESS: %s", strerror(errno));
	TH_LOG("seed %#llx: %llu acquisitions in %llu ms, %llu violations",
	       (unsigned long long)s.seed, (unsigned long long)s.acquisitions,
	       (unsigned long long)(now_ns() - t0) / 1000000,
	       (unsigned long long)s.violations);
	EXPECT_GT(s.acquisitions, 0);
	EXPECT_EQ(0, s.violations);
	/* It runs for its duration, not much less. */
	EXPECT_GE(now_ns() - t0, variant->duration_ms * 1000000ULL);
}

FIXTURE(killed) {
	int fd;
	pid_t child;
};

FIXTURE_SETUP(killed)
{
	self->fd = -1;
	self->child = 0;
}

/* A child left behind by a failed assertion must not run on for a minute. */
FIXTURE_TEARDOWN(killed)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F_TIMEOUT(killed, returns_early, 60)
{
	struct mmscale_range_stress s = {
		.nr_threads = 4,
		.duration_ms = KILLED_RUN_MS,
		.write_pct = 30,
		.space = 64,
		.seed = mmscale_seed(),
	};
	uint64_t t0;
	int status;

	open_with_range_lock_or_skip(self->fd);
	ASSERT_EQ(0, count_workers()) TH_LOG("workers of another run around");

	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child) {
		ioctl(self->fd, MMSCALE_IOC_RANGE_STRESS, &s);
		_exit(1);	/* it should never get here */
	}

	/* Its workers exist only inside the ioctl. */
	t0 = now_ns();
	while (count_workers() < (int)s.nr_threads &&
	       now_ns() - t0 < START_MAX_NS)
		usleep(1000);
	EXPECT_EQ(s.nr_threads, count_workers());

	t0 = now_ns();
	ASSERT_EQ(0, kill(self->child, SIGKILL));
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = 0;
	t0 = now_ns() - t0;
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGKILL, WTERMSIG(status));
	TH_LOG("reaped %llu ms after SIGKILL",
	       (unsigned long long)t0 / 1000000);
	EXPECT_LT(t0, KILLED_MAX_NS);
	/* The ioctl returns only once every worker has been stopped. */
	EXPECT_EQ(0, count_workers());
}

TEST_HARNESS_MAIN

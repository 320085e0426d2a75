// SPDX-License-Identifier: GPL-2.0
/*
 * mmscale_test module interface: every ioctl rejects bad arguments with
 * EINVAL (each case starts from arguments that are accepted, see the
 * *_valid cases, and breaks one thing), unknown ioctls get ENOTTY, and
 * FEATURES reports the ABI version and the features that are always there;
 * the MMU notifier of NOTIFIER is one per open file; STALE_VMA refuses
 * what is not the start of a VMA.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mmscale_util.h"

#define NR_PAGES	4

union mmscale_arg {
	struct mmscale_gup gup;
	struct mmscale_hold hold;
	struct mmscale_range_stress stress;
	struct mmscale_lock_bench bench;
	uint32_t magic;
};

FIXTURE(api) {
	int fd;
	void *map;
	union mmscale_arg arg;
};

FIXTURE_VARIANT(api) {
	unsigned long cmd;
	/* Turns the valid argument into the bad one; NULL: keep it valid. */
	void (*breakit)(union mmscale_arg *arg);
	int want_errno;		/* 0: the call must succeed */
};

static void valid_arg(unsigned long cmd, union mmscale_arg *arg, void *map)
{
	memset(arg, 0, sizeof(*arg));
	switch (cmd) {
	case MMSCALE_IOC_GUP:
		arg->gup.addr = (uintptr_t)map;
		arg->gup.size = NR_PAGES * PAGE_SZ;
		arg->gup.op = MMSCALE_GUP_REMOTE;
		arg->gup.nr_threads = 1;
		arg->gup.loops = 1;
		break;
	case MMSCALE_IOC_HOLD:
		arg->hold.mode = MMSCALE_HOLD_READ;
		arg->hold.hold_ms = 1;
		break;
	case MMSCALE_IOC_RANGE_STRESS:
		arg->stress.nr_threads = 1;
		arg->stress.duration_ms = 1;
		arg->stress.write_pct = 50;
		arg->stress.space = 1024;
		break;
	case MMSCALE_IOC_LOCK_BENCH:
		arg->bench.lock = MMSCALE_LB_RWSEM;
		arg->bench.nr_threads = 2;
		arg->bench.duration_ms = 1;
		break;
	}
}

FIXTURE_SETUP(api)
{
	self->fd = -1;
	self->map = map_anon(NR_PAGES * PAGE_SZ);
	ASSERT_NE(NULL, self->map);
}

FIXTURE_TEARDOWN(api)
{
	if (self->fd >= 0)
		close(self->fd);
	munmap(self->map, NR_PAGES * PAGE_SZ);
}

#define BAD(name, ioc, body)						\
	static void break_##name(union mmscale_arg *a) { body; }	\
	FIXTURE_VARIANT_ADD(api, name) {				\
		.cmd = ioc, .breakit = break_##name, .want_errno = EINVAL, \
	}

BAD(gup_unaligned_addr, MMSCALE_IOC_GUP, a->gup.addr += 8);
BAD(gup_unaligned_size, MMSCALE_IOC_GUP, a->gup.size -= 8);
BAD(gup_zero_size, MMSCALE_IOC_GUP, a->gup.size = 0);
BAD(gup_huge_size, MMSCALE_IOC_GUP, a->gup.size = (1ULL << 30) + PAGE_SZ);
BAD(gup_wrapping_range, MMSCALE_IOC_GUP,
	a->gup.addr = -(uint64_t)PAGE_SZ; a->gup.size = 2 * PAGE_SZ);
BAD(gup_bad_op, MMSCALE_IOC_GUP, a->gup.op = MMSCALE_GUP_OP_MAX);
BAD(gup_unknown_flag, MMSCALE_IOC_GUP, a->gup.flags = 1U << 31);
BAD(gup_zero_threads, MMSCALE_IOC_GUP, a->gup.nr_threads = 0);
BAD(gup_65_threads, MMSCALE_IOC_GUP, a->gup.nr_threads = 65);
BAD(gup_zero_loops, MMSCALE_IOC_GUP, a->gup.loops = 0);
BAD(gup_negative_pid, MMSCALE_IOC_GUP, a->gup.pid = -1);
BAD(gup_reserved, MMSCALE_IOC_GUP, a->gup.__reserved = 1);
BAD(hold_bad_mode, MMSCALE_IOC_HOLD, a->hold.mode = MMSCALE_HOLD_MODE_MAX);
BAD(hold_zero_ms, MMSCALE_IOC_HOLD, a->hold.hold_ms = 0);
BAD(hold_too_long, MMSCALE_IOC_HOLD, a->hold.hold_ms = 10001);
BAD(hold_negative_pid, MMSCALE_IOC_HOLD, a->hold.pid = -1);
BAD(hold_empty_range, MMSCALE_IOC_HOLD,
	a->hold.mode = MMSCALE_HOLD_RANGE_WRITE; a->hold.start = 4096;
	a->hold.end = 4096);
BAD(hold_reserved, MMSCALE_IOC_HOLD, a->hold.__reserved = 1);
BAD(stress_zero_threads, MMSCALE_IOC_RANGE_STRESS, a->stress.nr_threads = 0);
BAD(stress_65_threads, MMSCALE_IOC_RANGE_STRESS, a->stress.nr_threads = 65);
BAD(stress_zero_duration, MMSCALE_IOC_RANGE_STRESS, a->stress.duration_ms = 0);
BAD(stress_write_pct, MMSCALE_IOC_RANGE_STRESS, a->stress.write_pct = 101);
BAD(stress_tiny_space, MMSCALE_IOC_RANGE_STRESS, a->stress.space = 1);
BAD(bench_bad_lock, MMSCALE_IOC_LOCK_BENCH,
	a->bench.lock = MMSCALE_LB_LOCK_MAX);
BAD(bench_bad_write, MMSCALE_IOC_LOCK_BENCH, a->bench.write = 2);
BAD(bench_zero_threads, MMSCALE_IOC_LOCK_BENCH, a->bench.nr_threads = 0);
BAD(bench_65_threads, MMSCALE_IOC_LOCK_BENCH, a->bench.nr_threads = 65);
BAD(bench_zero_duration, MMSCALE_IOC_LOCK_BENCH, a->bench.duration_ms = 0);
BAD(bench_long_hold, MMSCALE_IOC_LOCK_BENCH, a->bench.hold_ns = 100001);
BAD(bench_reserved, MMSCALE_IOC_LOCK_BENCH, a->bench.__reserved = 1);
BAD(warn_bad_magic, MMSCALE_IOC_WARN, a->magic = MMSCALE_WARN_MAGIC + 1);

FIXTURE_VARIANT_ADD(api, gup_valid) {
	.cmd = MMSCALE_IOC_GUP,
};

FIXTURE_VARIANT_ADD(api, hold_valid) {
	.cmd = MMSCALE_IOC_HOLD,
};

FIXTURE_VARIANT_ADD(api, bench_rwsem_valid) {
	.cmd = MMSCALE_IOC_LOCK_BENCH,
};

static void break_bench_range(union mmscale_arg *a)
{
	a->bench.lock = MMSCALE_LB_RANGE_DISJOINT;
	a->bench.write = 1;
}

/* Kernels without range_lock: EOPNOTSUPP; else it runs. */
FIXTURE_VARIANT_ADD(api, bench_range_valid) {
	.cmd = MMSCALE_IOC_LOCK_BENCH,
	.breakit = break_bench_range,
	.want_errno = EOPNOTSUPP,
};

/* Kernels without range_lock: EOPNOTSUPP; else it runs. */
FIXTURE_VARIANT_ADD(api, stress_valid) {
	.cmd = MMSCALE_IOC_RANGE_STRESS,
	.want_errno = EOPNOTSUPP,
};

static void break_hold_range(union mmscale_arg *a)
{
	a->hold.mode = MMSCALE_HOLD_RANGE_READ;
	a->hold.start = 0;
	a->hold.end = 1ULL << 20;
}

/* Valid, but EOPNOTSUPP without CONFIG_MMAP_LOCK_RANGE. */
FIXTURE_VARIANT_ADD(api, hold_range_valid) {
	.cmd = MMSCALE_IOC_HOLD,
	.breakit = break_hold_range,
	.want_errno = EOPNOTSUPP,
};

TEST_F(api, ioctl)
{
	int want = variant->want_errno;
	uint64_t feat;
	int ret;

	self->fd = mmscale_open_or_skip();
	feat = mmscale_features(self->fd);
	if (want == EOPNOTSUPP) {
		if (variant->cmd == MMSCALE_IOC_HOLD &&
		    (feat & MMSCALE_FEAT_MMAP_LOCK_RANGE))
			want = 0;
		if ((variant->cmd == MMSCALE_IOC_RANGE_STRESS ||
		     variant->cmd == MMSCALE_IOC_LOCK_BENCH) &&
		    (feat & MMSCALE_FEAT_RANGE_LOCK))
			want = 0;
	}

	valid_arg(variant->cmd, &self->arg, self->map);
	if (variant->breakit)
		variant->breakit(&self->arg);

	ret = ioctl(self->fd, variant->cmd, &self->arg);
	if (!want) {
		ASSERT_EQ(0, ret) TH_LOG("ioctl: %s", strerror(errno));
		if (variant->cmd == MMSCALE_IOC_LOCK_BENCH) {
			/* Each thread runs at least one batch of 64. */
			ASSERT_LE(2 * 64, self->arg.bench.ops);
			ASSERT_LE(1000000, self->arg.bench.ns);
		}
		return;
	}
	ASSERT_EQ(-1, ret);
	ASSERT_EQ(want, errno) TH_LOG("got %s", strerror(errno));
}

TEST(features)
{
	struct mmscale_features f;
	int fd = mmscale_open_or_skip();
	uint64_t known = MMSCALE_FEAT_GUP | MMSCALE_FEAT_HOLD_MMAP_LOCK |
			 MMSCALE_FEAT_RANGE_LOCK |
			 MMSCALE_FEAT_MMAP_LOCK_RANGE | MMSCALE_FEAT_SPF |
			 MMSCALE_FEAT_MMU_NOTIFIER | MMSCALE_FEAT_SPF_VMA_FREE |
			 MMSCALE_FEAT_KASAN;

	memset(&f, 0xff, sizeof(f));
	ASSERT_EQ(0, ioctl(fd, MMSCALE_IOC_FEATURES, &f));
	ASSERT_EQ(MMSCALE_ABI_VERSION, f.version);
	ASSERT_EQ(1, MMSCALE_ABI_VERSION);
	ASSERT_EQ(0, f.__reserved);
	ASSERT_EQ(MMSCALE_FEAT_GUP | MMSCALE_FEAT_HOLD_MMAP_LOCK,
		  f.features & (MMSCALE_FEAT_GUP | MMSCALE_FEAT_HOLD_MMAP_LOCK));
	ASSERT_EQ(0, f.features & ~known);
	/* An mmap_lock on range_lock implies range_lock. */
	if (f.features & MMSCALE_FEAT_MMAP_LOCK_RANGE)
		ASSERT_NE(0, f.features & MMSCALE_FEAT_RANGE_LOCK);
	/* CONFIG_DEBUG_VM_SPF_FREE depends on speculative faults. */
	if (f.features & MMSCALE_FEAT_SPF_VMA_FREE)
		ASSERT_NE(0, f.features & MMSCALE_FEAT_SPF);
	TH_LOG("features 0x%llx", (unsigned long long)f.features);
	close(fd);
}

TEST(unknown_ioctl)
{
	int fd = mmscale_open_or_skip();
	uint32_t v = 0;

	ASSERT_EQ(-1, ioctl(fd, _IO(MMSCALE_IOC_MAGIC, 99)));
	ASSERT_EQ(ENOTTY, errno);
	/* A known number with the wrong size is a different command. */
	ASSERT_EQ(-1, ioctl(fd, _IOR(MMSCALE_IOC_MAGIC, 0, uint32_t), &v));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(fd, _IO('x', 1)));
	ASSERT_EQ(ENOTTY, errno);
	close(fd);
}

TEST(bad_pointer)
{
	int fd = mmscale_open_or_skip();

	ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_GUP, NULL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_HOLD, NULL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_FEATURES, NULL));
	ASSERT_EQ(EFAULT, errno);
	close(fd);
}

TEST(gup_no_such_pid)
{
	int fd = mmscale_open_or_skip();
	struct mmscale_gup g = { 0 };
	void *map = map_anon(PAGE_SZ);

	ASSERT_NE(NULL, map);
	g.addr = (uintptr_t)map;
	g.size = PAGE_SZ;
	g.nr_threads = 1;
	g.loops = 1;
	g.pid = 0x3fffffff;	/* above PID_MAX_LIMIT */
	ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_GUP, &g));
	ASSERT_EQ(ESRCH, errno);
	close(fd);
	munmap(map, PAGE_SZ);
}

/*
 * STALE_VMA reads a freed VMA when it succeeds (the KASAN self-test that
 * scripts/guest/spf-kasan.sh runs), so only its refusals are tested here;
 * a refused call must leave the VMA mapped.
 */
TEST(stale_vma_bad_args)
{
	int fd = mmscale_open_or_skip();
	struct mmscale_stale_vma sv = { .magic = MMSCALE_WARN_MAGIC };
	char *map = map_anon(2 * PAGE_SZ);

	ASSERT_NE(NULL, map);
	if (!(mmscale_features(fd) & MMSCALE_FEAT_SPF_VMA_FREE)) {
		sv.magic = 0;
		ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_STALE_VMA, &sv));
		ASSERT_EQ(EOPNOTSUPP, errno);
		close(fd);
		munmap(map, 2 * PAGE_SZ);
		SKIP(return, "kernel without CONFIG_DEBUG_VM_SPF_FREE");
	}
	sv.addr = (uintptr_t)map;
	sv.magic = 0;
	ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_STALE_VMA, &sv));
	ASSERT_EQ(EINVAL, errno);
	sv.magic = MMSCALE_WARN_MAGIC;
	sv.__reserved = 1;
	ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_STALE_VMA, &sv));
	ASSERT_EQ(EINVAL, errno);
	sv.__reserved = 0;
	sv.addr = (uintptr_t)map + 1;		/* not page aligned */
	ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_STALE_VMA, &sv));
	ASSERT_EQ(EINVAL, errno);
	sv.addr = (uintptr_t)map + PAGE_SZ;	/* inside, not the start */
	ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_STALE_VMA, &sv));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, munmap(map + PAGE_SZ, PAGE_SZ));
	sv.addr = (uintptr_t)map + PAGE_SZ;	/* not mapped at all */
	ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_STALE_VMA, &sv));
	ASSERT_EQ(EINVAL, errno);
	/* The refused calls unmapped nothing. */
	map[0] = 1;
	ASSERT_EQ(1, map[0]);
	close(fd);
	munmap(map, PAGE_SZ);
}

/*
 * The notifier: one per open file, so a second registration is EBUSY and
 * an unregistration without one ENOENT; each file has its own.
 */
TEST(notifier)
{
	int fd = mmscale_open_or_skip(), fd2;
	struct mmscale_notifier n = { 0 };

	if (!(mmscale_features(fd) & MMSCALE_FEAT_MMU_NOTIFIER)) {
		n.op = MMSCALE_NOTIFIER_REGISTER;
		ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_NOTIFIER, &n));
		ASSERT_EQ(EOPNOTSUPP, errno);
		close(fd);
		SKIP(return, "kernel without CONFIG_MMU_NOTIFIER");
	}
	n.op = MMSCALE_NOTIFIER_OP_MAX;
	ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_NOTIFIER, &n));
	ASSERT_EQ(EINVAL, errno);
	n.op = MMSCALE_NOTIFIER_REGISTER;
	n.__reserved = 1;
	ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_NOTIFIER, &n));
	ASSERT_EQ(EINVAL, errno);
	n.__reserved = 0;
	n.op = MMSCALE_NOTIFIER_UNREGISTER;
	ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_NOTIFIER, &n));
	ASSERT_EQ(ENOENT, errno);

	n.op = MMSCALE_NOTIFIER_REGISTER;
	ASSERT_EQ(0, ioctl(fd, MMSCALE_IOC_NOTIFIER, &n));
	ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_NOTIFIER, &n));
	ASSERT_EQ(EBUSY, errno);
	/* A second file registers its own; closing it unregisters that. */
	fd2 = mmscale_open_or_skip();
	ASSERT_EQ(0, ioctl(fd2, MMSCALE_IOC_NOTIFIER, &n));
	close(fd2);
	/* munmap() invalidates, under mmap_lock: a start and an end. */
	ASSERT_EQ(0, munmap(map_anon(PAGE_SZ), PAGE_SZ));
	n.op = MMSCALE_NOTIFIER_UNREGISTER;
	ASSERT_EQ(0, ioctl(fd, MMSCALE_IOC_NOTIFIER, &n));
	ASSERT_LE(1, n.starts);
	ASSERT_EQ(n.starts, n.ends);
	ASSERT_EQ(0, n.unmatched);
	ASSERT_EQ(-1, ioctl(fd, MMSCALE_IOC_NOTIFIER, &n));
	ASSERT_EQ(ENOENT, errno);
	close(fd);
}

TEST_HARNESS_MAIN

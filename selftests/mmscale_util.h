/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the mmscale selftests.  Included after
 * kselftest_harness.h; the macros that SKIP use its _metadata.
 */
#ifndef MMSCALE_UTIL_H
#define MMSCALE_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "mmscale_test.h"

#define PAGE_SZ		((size_t)sysconf(_SC_PAGESIZE))

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* A seed that differs between runs and between test cases. */
static inline uint64_t mmscale_seed(void)
{
	return now_ns() ^ ((uint64_t)getpid() << 32);
}

/*
 * Fill [p, p + len) with the pattern that belongs at user address @addr:
 * a staging buffer for memory that will be moved or copied there.
 */
static inline void pattern_fill_for(void *p, size_t len, uint64_t seed,
				    uint64_t addr)
{
	volatile uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		w[i] = mmscale_pattern(seed, addr + i * sizeof(*w));
}

/* Store the mmscale_pattern() of each 8-byte word of [p, p + len). */
static inline void pattern_fill(void *p, size_t len, uint64_t seed)
{
	pattern_fill_for(p, len, seed, (uintptr_t)p);
}

/*
 * Like the module's check: the page at @p holds the pattern for its own
 * addresses @shift bytes further on (0 when checking in place), or zeroes.
 */
static inline bool pattern_page_ok(const void *p, size_t shift, uint64_t seed)
{
	const volatile uint64_t *w = p;
	bool zero = !w[0];
	size_t i;

	for (i = 0; i < PAGE_SZ / sizeof(*w); i++) {
		uint64_t want = zero ? 0 :
			mmscale_pattern(seed, (uintptr_t)&w[i] + shift);

		if (w[i] != want)
			return false;
	}
	return true;
}

/*
 * Open the module's control file, or SKIP the current test with the reason.
 * Evaluates to the file descriptor.
 */
#define mmscale_open_or_skip() ({					\
	int __fd = -1;							\
									\
	if (geteuid() != 0)						\
		SKIP(return, "needs root (debugfs and the test module)");\
	__fd = open(MMSCALE_DEBUGFS_CTL, O_RDWR | O_CLOEXEC);		\
	if (__fd < 0)							\
		SKIP(return, "%s: %s (mmscale_test module not loaded or debugfs not mounted)", \
		     MMSCALE_DEBUGFS_CTL, strerror(errno));		\
	__fd;								\
})

/* The MMSCALE_FEAT_* bits of the module, 0 if the query fails. */
static inline uint64_t mmscale_features(int fd)
{
	struct mmscale_features f = { 0 };

	if (ioctl(fd, MMSCALE_IOC_FEATURES, &f))
		return 0;
	return f.features;
}

/* Anonymous private read-write mapping without THP, NULL on failure. */
static inline void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

/* The counter @name of /proc/vmstat, -1 if there is none. */
static inline long mmscale_vmstat(const char *name)
{
	char key[64];
	long val, ret = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &val) == 2)
		if (!strcmp(key, name))
			ret = val;
	fclose(f);
	return ret;
}

/* A sysctl that reads as 1. */
static inline bool sysctl_on(const char *path)
{
	FILE *f = fopen(path, "r");
	int val = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d", &val) != 1)
		val = 0;
	fclose(f);
	return val == 1;
}

#endif /* MMSCALE_UTIL_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * mmscale-ctl: command-line access to the mmscale test module, for guest
 * scripts and for people at the guest shell.
 *
 *   mmscale-ctl features
 *   mmscale-ctl hold write|read MS     hold this process's mmap_lock
 *   mmscale-ctl warn                   trigger the deliberate WARN
 *   mmscale-ctl spf-inversion          trigger the deliberate lockdep report
 *                                      of MMSCALE_IOC_SPF_INVERSION
 *   mmscale-ctl stale-vma              trigger the deliberate KASAN report
 *                                      of MMSCALE_IOC_STALE_VMA
 *
 * Exit status: 0 done, 1 the operation failed, 2 bad usage,
 * 4 (KSFT_SKIP) the module or the feature is absent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../mmscale_test.h"

static int show_usage(void)
{
	fprintf(stderr,
		"usage: mmscale-ctl features | hold write|read MS | warn | spf-inversion | stale-vma\n");
	return 2;
}

static int open_ctl(void)
{
	int fd = open(MMSCALE_DEBUGFS_CTL, O_RDWR);

	if (fd < 0)
		fprintf(stderr,
			"mmscale-ctl: open %s: %s (is mmscale_test loaded?)\n",
			MMSCALE_DEBUGFS_CTL, strerror(errno));
	return fd;
}

static int failed(const char *what)
{
	int err = errno;

	fprintf(stderr, "mmscale-ctl: %s: %s\n", what, strerror(err));
	return err == EOPNOTSUPP ? 4 : 1;
}

/*
 * Give a speculative fault the chance to record its side of the lock
 * order (it installs a PTE table under the PMD lock while it carries the
 * VMA's busy bias), then ask the module for the other side.
 */
static int spf_inversion(int fd)
{
	const size_t pmd = 2UL << 20, size = 2 * pmd;
	struct mmscale_spf_inversion inv = { .magic = MMSCALE_WARN_MAGIC };
	char *p, *block;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return failed("mmap");
	if (madvise(p, size, MADV_NOHUGEPAGE))
		return failed("madvise(MADV_NOHUGEPAGE)");
	/* A PMD that the first touch below does not reach. */
	block = (char *)(((uintptr_t)p + 4096 + pmd - 1) & ~(pmd - 1));
	p[0] = 1;	/* locked: sets up the anon_vma */
	block[0] = 1;	/* speculative: a new PTE table */
	inv.addr = (uintptr_t)block;
	if (ioctl(fd, MMSCALE_IOC_SPF_INVERSION, &inv))
		return failed("MMSCALE_IOC_SPF_INVERSION");
	return 0;
}

/*
 * Map a VMA of its own (holes on both sides, so that it merges with
 * nothing), touch it, and ask the module to unmap it and read it after
 * its free.
 */
static int stale_vma(int fd)
{
	const size_t page = 4096;
	struct mmscale_stale_vma sv = { .magic = MMSCALE_WARN_MAGIC };
	char *p;

	p = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return failed("mmap");
	if (munmap(p, page) || munmap(p + 2 * page, page))
		return failed("munmap");
	p[page] = 1;
	sv.addr = (uintptr_t)(p + page);
	if (ioctl(fd, MMSCALE_IOC_STALE_VMA, &sv))
		return failed("MMSCALE_IOC_STALE_VMA");
	printf("read vm_start 0x%llx of the freed VMA at 0x%llx\n",
	       (unsigned long long)sv.start, (unsigned long long)sv.addr);
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc < 2)
		return show_usage();
	fd = open_ctl();
	if (fd < 0)
		return 4;

	if (!strcmp(argv[1], "features") && argc == 2) {
		struct mmscale_features f = { 0 };

		if (ioctl(fd, MMSCALE_IOC_FEATURES, &f))
			return failed("MMSCALE_IOC_FEATURES");
		printf("version %u features 0x%llx:%s%s%s%s%s%s%s\n", f.version,
		       (unsigned long long)f.features,
		       f.features & MMSCALE_FEAT_GUP ? " gup" : "",
		       f.features & MMSCALE_FEAT_HOLD_MMAP_LOCK ? " hold" : "",
		       f.features & MMSCALE_FEAT_RANGE_LOCK ? " range_lock" : "",
		       f.features & MMSCALE_FEAT_MMAP_LOCK_RANGE ? " mmap_lock_range" : "",
		       f.features & MMSCALE_FEAT_SPF ? " spf" : "",
		       f.features & MMSCALE_FEAT_SPF_VMA_FREE ? " spf_vma_free" : "",
		       f.features & MMSCALE_FEAT_KASAN ? " kasan" : "");
		return 0;
	}
	if (!strcmp(argv[1], "hold") && argc == 4) {
		struct mmscale_hold h = { 0 };
		char *end;

		if (!strcmp(argv[2], "write"))
			h.mode = MMSCALE_HOLD_WRITE;
		else if (!strcmp(argv[2], "read"))
			h.mode = MMSCALE_HOLD_READ;
		else
			return show_usage();
		h.hold_ms = strtoul(argv[3], &end, 10);
		if (*end || !h.hold_ms)
			return show_usage();
		if (ioctl(fd, MMSCALE_IOC_HOLD, &h))
			return failed("MMSCALE_IOC_HOLD");
		printf("held for %llu ns\n",
		       (unsigned long long)(h.release_ns - h.acquire_ns));
		return 0;
	}
	if (!strcmp(argv[1], "warn") && argc == 2) {
		__u32 magic = MMSCALE_WARN_MAGIC;

		if (ioctl(fd, MMSCALE_IOC_WARN, &magic))
			return failed("MMSCALE_IOC_WARN");
		return 0;
	}
	if (!strcmp(argv[1], "spf-inversion") && argc == 2)
		return spf_inversion(fd);
	if (!strcmp(argv[1], "stale-vma") && argc == 2)
		return stale_vma(fd);
	return show_usage();
}

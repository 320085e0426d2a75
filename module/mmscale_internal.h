/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmscale test module: declarations shared by its source files.
 */
#ifndef MMSCALE_INTERNAL_H
#define MMSCALE_INTERNAL_H

#include <linux/compiler.h>
#include <linux/mm_types.h>

#include "mmscale_compat.h"
#include "mmscale_test.h"

struct mm_struct *mmscale_get_mm(pid_t nr);

long mmscale_ioc_gup(struct mmscale_gup __user *uarg);
long mmscale_ioc_hold(struct mmscale_hold __user *uarg);
long mmscale_ioc_range_stress(struct mmscale_range_stress __user *uarg);
long mmscale_ioc_lock_bench(struct mmscale_lock_bench __user *uarg);

#endif /* MMSCALE_INTERNAL_H */

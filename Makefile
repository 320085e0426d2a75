# mmscale: entry points.  Each target calls one script in scripts/; the
# scripts say what they do at the top.  See README.md.
#
#   make run        the main job: build patched and vanilla kernels, boot
#                   each, run the selftests and the A/B benchmark, report
#   make check      the test suite (ends with "N passed, N failed")
#   make bench      the A/B benchmark only (ROUNDS=, SMPS=, KERNELS=)
#   make soak       torture + selftests + locktorture in a loop on the debug
#                   kernel under memory pressure (DURATION=seconds, 1800)
#   make shell      boot the patched kernel with a shell (FLAVOR=debug|perf)
#   make kernel     build one kernel (FLAVOR=debug|perf PATCHED=1|0)
#   make patches    export the series from build/linux into patches/
#   make checkpatch scripts/checkpatch.pl --strict over every patch
#   make bisect     build and boot every step of the series on its own
#                   (PATCHES="6 7 8": only those; FLAVOR=perf by default)
#   make scale-bundle  pack QEMU and the perf kernels into .scale/ for the
#                   16-core scaling run (scripts/scale-device.sh runs it)

FLAVOR ?= debug
DURATION ?= 1800
PATCHED ?= 1
VARIANT := $(if $(filter 1,$(PATCHED)),patched,vanilla)
S := scripts

.PHONY: run check bench soak shell kernel patches checkpatch bisect scale-bundle source deps clean

run:
	$(S)/run.sh

check:
	$(S)/check.sh

bench:
	$(S)/bench.sh

soak:
	DURATION=$(DURATION) $(S)/soak.sh

deps:
	$(S)/install-deps.sh

source: deps
	$(S)/get-source.sh
	WITH_VANILLA=$(if $(filter 0,$(PATCHED)),1,0) $(S)/apply-series.sh

kernel: source
	$(S)/build-kernel.sh $(FLAVOR) $(VARIANT)

shell: kernel
	$(S)/build-tests.sh $(FLAVOR) $(VARIANT)
	WITH_PERF=1 $(S)/make-initramfs.sh $(FLAVOR) $(VARIANT)
	$(S)/boot-qemu.sh $(FLAVOR) $(VARIANT) shell build/shell

patches:
	$(S)/export-series.sh

checkpatch:
	$(S)/checkpatch.sh

bisect:
	$(S)/bisect-build.sh

scale-bundle:
	$(S)/scale-bundle.sh

clean:
	rm -rf build/obj build/payload build/initramfs build/harness-* build/module-* \
		build/scale-bundle build/bisect .scale

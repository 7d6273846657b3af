# One non-recursive Makefile. Everything is built out of tree under build/:
#   build/host    paging/ + host unit tests (ASan + UBSan)
#   build/model   randomized model test,   build/fuzz  libFuzzer target (clang)
#   build/bench   benchmark (-O2, no sanitizers)
#   build/efi, build/kernel, build/esp   the bootable image (see the EFI section)
# `make help` lists the targets.

# DEBUG=1 (make debug): everything at -Og with full debug info, in its own build-debug/.
ifeq ($(DEBUG),1)
BUILD   ?= build-debug
OPT     := -Og -g3
else
OPT     := -O2
endif
BUILD   ?= build
HOST_CC ?= cc
FUZZ_CC ?= clang
SEED    ?=
OPS     ?= 1000000
LEVELS  ?= 4
FUZZ_SECONDS ?= 60

.DEFAULT_GOAL := all
.PHONY: all help test test-host test-model fuzz fuzz-short bench clean deps

PAGING_SRC := $(wildcard paging/*.c)
# common/: what both stages own (the CPU header, the MTRR rules); its C files build everywhere.
COMMON_SRC := $(wildcard common/*.c)
WARN       := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
HOST_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -g -O1 $(WARN) -Ipaging -Iefi/pure -Icommon -Itests/host \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -MMD -MP
HOST_LDFLAGS := -fsanitize=address,undefined

# ---------------------------------------------------------------- host tests
# Pure (firmware-independent) EFI-stage code that the host tests exercise lives in efi/pure/.
PURE_SRC   := $(wildcard efi/pure/*.c)
UNIT_SRC   := tests/host/main.c tests/host/simram.c $(wildcard tests/host/test_*.c)
UNIT_OBJ   := $(patsubst %.c,$(BUILD)/host/%.o,$(PAGING_SRC) $(COMMON_SRC) $(PURE_SRC) $(UNIT_SRC))

$(BUILD)/host/%.o: %.c
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/host/unit_tests: $(UNIT_OBJ)
	$(HOST_CC) $(HOST_LDFLAGS) $^ -o $@

-include $(UNIT_OBJ:.o=.d)

test-host: $(BUILD)/host/unit_tests
	$(BUILD)/host/unit_tests

# Every suite (unit, model, short fuzz, QEMU boots), summed into one closing line.
test: deps
	@tests/run_all.sh

# ---- model test, fuzz, bench (issue 2) ----------------------------------------------------
#   make test-model SEED=n OPS=m LEVELS=4|5   randomized model test (SEED empty: time-based,
#                                  printed; LEVELS: 4- or 5-level paging, default 4)
#   make fuzz / make fuzz-short    libFuzzer over the same model, FUZZ_SECONDS (60) / 10 s
#   make bench                     -O2 -DNDEBUG, no sanitizers, paging/ built into build/bench/
MODEL_SRC := tests/model/model.c tests/model/harness.c tests/model/refmodel.c tests/host/simram.c
MODEL_OBJ := $(patsubst %.c,$(BUILD)/model/%.o,$(PAGING_SRC) $(MODEL_SRC))

$(BUILD)/model/%.o: %.c
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -Itests/model -c $< -o $@

$(BUILD)/model/model_test: $(MODEL_OBJ)
	$(HOST_CC) $(HOST_LDFLAGS) $^ -o $@

test-model: $(BUILD)/model/model_test
	$(BUILD)/model/model_test --seed "$(SEED)" --ops "$(OPS)" --levels "$(LEVELS)"

FUZZ_SHORT_SECONDS ?= 10
FUZZ_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -g -O1 $(WARN) -Ipaging -Itests/host -Itests/model \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -MMD -MP
FUZZ_SRC := tests/fuzz/fuzz_pt.c tests/model/harness.c tests/model/refmodel.c tests/host/simram.c
FUZZ_OBJ := $(patsubst %.c,$(BUILD)/fuzz/%.o,$(PAGING_SRC) $(FUZZ_SRC))

$(BUILD)/fuzz/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/fuzz_pt: $(FUZZ_OBJ)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined $^ -o $@

# make fuzz: the page-table fuzzer, then the memory-map, ELF and argument fuzzers, each
# FUZZ_SECONDS. (make test runs both sets briefly, as fuzz-short and fuzz-harden-short.)
fuzz: $(BUILD)/fuzz/fuzz_pt
	@tests/fuzz/run_pt.sh $< $(FUZZ_SECONDS) $(BUILD)/fuzz
	@$(MAKE) --no-print-directory fuzz-harden FUZZ_SECONDS=$(FUZZ_SECONDS)
fuzz-short: $(BUILD)/fuzz/fuzz_pt
	@tests/fuzz/run_pt.sh $< $(FUZZ_SHORT_SECONDS) $(BUILD)/fuzz

BENCH_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -O2 -DNDEBUG $(WARN) -Ipaging -MMD -MP
BENCH_OBJ := $(patsubst %.c,$(BUILD)/bench/obj/%.o,$(PAGING_SRC) bench/bench.c)

$(BUILD)/bench/obj/%.o: %.c
	@mkdir -p $(@D)
	$(HOST_CC) $(BENCH_CFLAGS) -c $< -o $@

$(BUILD)/bench/bench: $(BENCH_OBJ)
	$(HOST_CC) $^ -o $@

bench: $(BUILD)/bench/bench
	$(BUILD)/bench/bench

-include $(MODEL_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d) $(BENCH_OBJ:.o=.d)
# end of model test, fuzz, bench section

# ---- mutation testing (issue 12) -------------------------------------------------------------
#   make mutate          every operator-level mutant of paging/*.c against the unit tests and
#                        the model test (MUTATE_SEEDS, MUTATE_OPS); table in build/mutate/report.md
#   make mutate-sample   a fixed sample of MUTATE_SAMPLE mutants, as a suite (make test runs it)
# Equivalent mutants are argued in tests/mutate/equivalent.txt. MUTATE_JOBS=2.
.PHONY: mutate mutate-sample
MUTATE_JOBS   ?= 2
MUTATE_SEEDS  ?= 1,2,3
MUTATE_OPS    ?= 20000
MUTATE_SAMPLE ?= 24
MUTATE_ENV = MUT_CC="$(HOST_CC)" MUT_CFLAGS="$(HOST_CFLAGS)" MUT_LDFLAGS="$(HOST_LDFLAGS)" \
	MUT_UNIT_OBJ="$(UNIT_OBJ)" MUT_MODEL_OBJ="$(MODEL_OBJ)" MUT_BUILD="$(BUILD)"
MUTATE_FILES  ?= $(PAGING_SRC)
MUTATE_ARGS = --jobs $(MUTATE_JOBS) --seeds $(MUTATE_SEEDS) --ops $(MUTATE_OPS) --files "$(MUTATE_FILES)"

mutate: $(BUILD)/host/unit_tests $(BUILD)/model/model_test
	@$(MUTATE_ENV) python3 tests/mutate/mutate.py full $(MUTATE_ARGS)
mutate-sample: $(BUILD)/host/unit_tests $(BUILD)/model/model_test
	@$(MUTATE_ENV) python3 tests/mutate/mutate.py sample $(MUTATE_ARGS) --count $(MUTATE_SAMPLE)
# end of mutation testing section

# ---------------------------------------------------------------- EFI stage + kernel (issue 3)
# paging/ is compiled twice more: build/efi with gnu-efi's flags (phys_offset 0 at run
# time), build/kernel freestanding for -mcmodel=kernel. The kernel ELF is linked at
# 0xFFFFFFFF80000000 and embedded into the EFI image, which becomes build/kernel.efi.
.PHONY: esp run run-serial debug boot-test

EFI_INC  ?= /usr/include/efi
EFI_LIB  ?= /usr/lib
EFI_CRT0 := $(EFI_LIB)/crt0-efi-x86_64.o
EFI_LDS  := $(EFI_LIB)/elf_x86_64_efi.lds
EFI_CC   ?= gcc
KERNEL_CC ?= gcc
LD       ?= ld
OBJCOPY  ?= objcopy
ESP      := $(BUILD)/esp
# Sections the installed gnu-efi linker script produces, for the PE conversion.
EFI_SECTIONS := .text .sdata .data .dynamic .dynsym .rel .rela .rel.* .rela.* .reloc

# kernel/ by part: arch (CPU, traps), mm (memory core), console, lib, tour (the demo with its
# self-tests and drills). Each part's headers are found by name from anywhere in the kernel.
KERNEL_DIRS := kernel $(patsubst %/,%,$(wildcard kernel/*/))
KERNEL_INC  := $(addprefix -I,$(KERNEL_DIRS))
KERNEL_CFLAGS := -std=c11 -g $(OPT) $(WARN) -ffreestanding -fno-stack-protector -fno-pic -fno-pie \
	-mcmodel=kernel -mno-red-zone -mno-mmx -mno-sse -mno-sse2 -fno-asynchronous-unwind-tables \
	-fno-omit-frame-pointer $(KERNEL_INC) -Ipaging -Icommon -MMD -MP
KERNEL_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack -T kernel/linker.ld

# gnu-efi's headers are -isystem so that our warnings stay on for our code only.
# GNU_EFI_USE_MS_ABI: firmware calls go through ms_abi function pointers directly.
EFI_CFLAGS := -std=gnu11 -g $(OPT) $(WARN) -ffreestanding -fpic -fshort-wchar -fno-stack-protector \
	-fno-strict-aliasing -mno-red-zone -maccumulate-outgoing-args -DGNU_EFI_USE_MS_ABI \
	-isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 -Iefi -Iefi/pure -Ipaging -Ikernel -Icommon -MMD -MP
# PHYSMAP_MUTANT=1|2: a physmap broken on purpose (efi/space.c) that the memtype audit must
# catch; use its own BUILD (make BUILD=build/mutant PHYSMAP_MUTANT=1 all).
EFI_CFLAGS += $(if $(PHYSMAP_MUTANT),-DPHYSMAP_MUTANT=$(PHYSMAP_MUTANT))
# -e: efi/entry.S turns SSE on before gnu-efi's _start (which the script names) runs.
EFI_LDFLAGS := -nostdlib -znocombreloc -T $(EFI_LDS) -shared -Bsymbolic -L$(EFI_LIB) -e stage_entry

KERNEL_SRC := $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.c $(d)/*.S)) $(PAGING_SRC) $(COMMON_SRC) \
	$(KERNEL_EXTRA_SRC)
KERNEL_OBJ := $(addprefix $(BUILD)/kernel/,$(addsuffix .o,$(basename $(KERNEL_SRC))))
EFI_SRC    := $(wildcard efi/*.c) efi/entry.S efi/handoff.S $(PURE_SRC) $(PAGING_SRC) $(COMMON_SRC)
EFI_OBJ    := $(addprefix $(BUILD)/efi/,$(addsuffix .o,$(basename $(EFI_SRC)))) \
	$(BUILD)/efi/kernel_blob.o

all: $(BUILD)/kernel.efi esp

deps:
	@scripts/deps.sh

$(BUILD)/kernel/%.o: %.c | deps
	@mkdir -p $(@D)
	$(KERNEL_CC) $(KERNEL_CFLAGS) -c $< -o $@
$(BUILD)/kernel/%.o: %.S | deps
	@mkdir -p $(@D)
	$(KERNEL_CC) $(KERNEL_CFLAGS) -c $< -o $@
$(BUILD)/kernel/kernel.elf: $(KERNEL_OBJ) kernel/linker.ld
	$(LD) $(KERNEL_LDFLAGS) $(KERNEL_OBJ) -o $@

$(BUILD)/efi/%.o: %.c | deps
	@mkdir -p $(@D)
	$(EFI_CC) $(EFI_CFLAGS) -c $< -o $@
$(BUILD)/efi/%.o: %.S | deps
	@mkdir -p $(@D)
	$(EFI_CC) $(EFI_CFLAGS) -c $< -o $@
# The embedded copy drops debug info; gdb reads the symbols from kernel.elf itself.
$(BUILD)/kernel/kernel.stripped.elf: $(BUILD)/kernel/kernel.elf
	$(OBJCOPY) --strip-debug $< $@
# .incbin is invisible to -MMD: the dependency on the kernel is spelled out.
$(BUILD)/efi/kernel_blob.o: efi/kernel_blob.S $(BUILD)/kernel/kernel.stripped.elf | deps
	@mkdir -p $(@D)
	$(EFI_CC) $(EFI_CFLAGS) -DKERNEL_ELF='"$(BUILD)/kernel/kernel.stripped.elf"' -c $< -o $@
$(BUILD)/efi/kernel.so: $(EFI_OBJ)
	$(LD) $(EFI_LDFLAGS) $(EFI_CRT0) $(EFI_OBJ) -o $@ -lefi -lgnuefi
$(BUILD)/kernel.efi: $(BUILD)/efi/kernel.so
	$(OBJCOPY) $(foreach s,$(EFI_SECTIONS),-j '$(s)') --target efi-app-x86_64 --subsystem=10 $< $@

-include $(KERNEL_OBJ:.o=.d) $(EFI_OBJ:.o=.d)

esp: $(ESP)/EFI/BOOT/BOOTX64.EFI $(ESP)/kernel.efi $(ESP)/startup.nsh
$(ESP)/EFI/BOOT/BOOTX64.EFI $(ESP)/kernel.efi: $(BUILD)/kernel.efi
	@mkdir -p $(@D)
	cp $< $@
$(ESP)/startup.nsh: startup.nsh
	@mkdir -p $(@D)
	cp $< $@

# make run: a window when there is a display, else the serial console on this terminal.
# INSPECT=1 boots an ESP whose startup.nsh runs `kernel.efi inspect` (the prompt at once).
RUN_ESP = $(if $(filter 1,$(INSPECT)),$(BUILD)/esp-inspect,$(ESP))
run: all $(if $(filter 1,$(INSPECT)),inspect-esp)
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then scripts/qemu.sh --window $(RUN_ESP); \
	else scripts/qemu.sh --serial $(RUN_ESP); fi
run-serial: all $(if $(filter 1,$(INSPECT)),inspect-esp)
	@scripts/qemu.sh --serial $(RUN_ESP)
# make debug: the whole image again at -Og -g3 in build-debug/, QEMU waiting for gdb.
ifeq ($(DEBUG),1)
debug: all
	@scripts/debug-help.sh $(BUILD)
	@scripts/qemu.sh --serial --debug $(ESP)
else
debug:
	@$(MAKE) --no-print-directory DEBUG=1 BUILD=build-debug debug
endif
boot-test: all
	@tests/boot/boot_test.sh

clean:
	rm -rf $(BUILD)

help:
	@echo "make             build $(BUILD)/kernel.efi and the ESP tree $(ESP)/"
	@echo "make run         boot it in QEMU on OVMF (window if a display, else serial here)"
	@echo "make run-serial  boot it with the serial console on this terminal (Ctrl-A X quits)"
	@echo "make debug       -Og build in build-debug/, QEMU waits for gdb; prints how to attach"
	@echo "make shell       OVMF's UEFI shell on fs0: = the ESP, nothing booted: type kernel.efi memmap"
	@echo "make selftest    boot the kernel's self-test mode; exits 0 on pass, non-zero on fail"
	@echo "make run INSPECT=1  straight to the kernel.efi> prompt (no key to press)"
	@echo "make playground-test  the guide's exercise built into the kernel and booted"
	@echo "make guide-test  compiles and runs every code block of docs/from-the-post.md"
	@echo "make figure      redraws docs/address-space.svg from a real boot's tables"
	@echo "make boot-test   boot under OVMF (TCG) and check the serial log"
	@echo "make shell-test  the EFI shell inspection commands in OVMF's shell (TCG)"
	@echo "make test        every test suite, ending in 'N passed, N failed'"
	@echo "make test-host   host unit tests of paging/ and efi/pure/"
	@echo "make test-model  randomized model test of paging/ (SEED=n OPS=m LEVELS=4|5)"
	@echo "make fuzz        libFuzzer over paging/ (FUZZ_SECONDS=60); fuzz-harden: map, ELF, args"
	@echo "make bench       paging/ and frame allocator benchmark (-O2, median of 5)"
	@echo "make mutate      every mutant of paging/*.c vs unit + model tests; mutate-sample: 24"
	@echo "make selftest-test  kernel self-tests and fault drills in QEMU"
	@echo "make screen-test    screendump of the framebuffer console checked row by row"
	@echo "make quirks-test    stale map key, late physmap coverage, frame reclaim"
	@echo "make test-matrix    every hardware configuration (matrix-lean: five of them)"
	@echo "make image       build/usb.img; make usb DEV=/dev/sdX writes it (checked, asks)"
	@echo "make run-uboot   boot build/usb.img on U-Boot's UEFI (serial here; Ctrl-A X quits)"
	@echo "make uboot-test  boot build/usb.img on U-Boot's UEFI and check the report"
	@echo "make firmware-test  late failures and early panics on screen, GOP choice (OVMF)"
	@echo "make sign KEY= CERT=  Secure Boot signing; make sb-test boots it under OVMF SB"
	@echo "make la57-test    5-level paging: la57on.efi, --levels 4|5, CR4.LA57 from QEMU's monitor"
	@echo "make smp-test     -smp 4 self-test (stress, stale-read checker), the no-IPI mutant must fail"
	@echo "make user-test    heap, address spaces and ring 3 self-tests on max, qemu64, qemu64,-nx"
	@echo "make test-heap-model / fuzz-heap / fuzz-acpi  the heap core's model test and fuzzer; MADT fuzzer"
	@echo "make deps        install missing Debian/Ubuntu packages (apt-get, sudo)"
	@echo "make clean       remove $(BUILD)/"
	@echo "variables: QEMU_MEM=1G QEMU_CPU=max QEMU_SMP=1 QEMU_MACHINE=q35 OVMF_CODE= OVMF_VARS="
# end of EFI stage + kernel section

# ---- hardening fuzzers (issue 7): memory map, kernel ELF, shell arguments; libFuzzer
# with ASan+UBSan, each checking its parser against an independent reference.
#   make fuzz-harden         each target FUZZ_SECONDS (60) s, one after the other
#   make fuzz-harden-short   each target HARDEN_SHORT_SECONDS (5) s, for make test
#   make fuzz-harden-seeds   regenerate the committed seeds in tests/fuzz/corpus/
# Binaries, new corpus entries and crash inputs go to $(BUILD)/fuzz-harden/.
.PHONY: fuzz-harden fuzz-harden-short fuzz-harden-seeds
HARDEN_FUZZERS := memmap elf mtrr
ifneq ($(wildcard efi/pure/args.c),)
HARDEN_FUZZERS += args
endif
HARDEN_DIR := $(BUILD)/fuzz-harden
HARDEN_SHORT_SECONDS ?= 5
HARDEN_FUZZ_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -g -O1 $(WARN) -Ipaging -Iefi/pure -Icommon \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HARDEN_BINS := $(patsubst %,$(HARDEN_DIR)/fuzz_%,$(HARDEN_FUZZERS))
HARDEN_RUN := KERNEL_ELF=$(BUILD)/kernel/kernel.elf tests/fuzz/harden.sh

$(HARDEN_BINS): $(HARDEN_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(PURE_SRC) $(PAGING_SRC) $(COMMON_SRC) \
		$(wildcard efi/pure/*.h paging/*.h common/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(HARDEN_FUZZ_CFLAGS) $< $(PURE_SRC) $(PAGING_SRC) $(COMMON_SRC) -o $@

fuzz-harden: $(HARDEN_BINS)
	@$(HARDEN_RUN) $(FUZZ_SECONDS) $(HARDEN_DIR) $(HARDEN_FUZZERS)
fuzz-harden-short: $(HARDEN_BINS)
	@$(HARDEN_RUN) $(HARDEN_SHORT_SECONDS) $(HARDEN_DIR) $(HARDEN_FUZZERS)

fuzz-harden-seeds: tests/fuzz/corpus/mkseeds.c
	@mkdir -p $(HARDEN_DIR) $(addprefix tests/fuzz/corpus/,memmap elf args)
	$(HOST_CC) -std=c11 $(WARN) $< -o $(HARDEN_DIR)/mkseeds
	$(HARDEN_DIR)/mkseeds tests/fuzz/corpus
# end of hardening fuzzers section

# ---- USB image, Secure Boot (issue 6) ----------------------------------------------------
# make image                        $(BUILD)/usb.img: GPT disk, one FAT32 ESP with $(ESP)'s files
#                                   (sfdisk + mtools, no root); IMG_MB=64 sets its size
# make usb DEV=/dev/sdX             write it to a USB stick after safety checks and a typed `yes`
# make sign KEY=db.key CERT=db.crt  $(BUILD)/kernel-signed.efi, $(BUILD)/esp-signed/, $(BUILD)/usb-signed.img
#                                   (KEY_PASS=... for an encrypted key)
# make sb-test                      Secure Boot under OVMF: snakeoil-signed boots, unsigned is refused
# make usb-boot-test                boot usb.img as a USB stick (xHCI) and as a SATA disk
# make usb-write-test               the writer's safety checks against fake sysfs trees
# make image-test                   mkimage.sh's layout and errors, on a scratch ESP (no QEMU)
.PHONY: image usb sign sb-test usb-boot-test usb-write-test image-test

USB_IMG   := $(BUILD)/usb.img
IMG_MB    ?= 64
ESP_FILES := $(ESP)/EFI/BOOT/BOOTX64.EFI $(ESP)/kernel.efi $(ESP)/startup.nsh

image: $(USB_IMG)
$(USB_IMG): $(ESP_FILES) scripts/mkimage.sh | deps
	IMG_MB=$(IMG_MB) scripts/mkimage.sh $(ESP) $@

# Without DEV (or KEY/CERT) nothing is built: the script prints its usage or error at once.
usb: $(if $(DEV),$(USB_IMG))
	@scripts/write-usb.sh "$(DEV)" $(USB_IMG)

sign: $(if $(and $(KEY),$(CERT)),$(BUILD)/kernel.efi $(ESP_FILES) | deps)
	@ESP=$(ESP) EFI=$(BUILD)/kernel.efi OUT=$(BUILD) scripts/sign.sh "$(KEY)" "$(CERT)"

sb-test: $(BUILD)/kernel.efi $(ESP_FILES) | deps
	@BUILD=$(BUILD) tests/secureboot/sb_test.sh

usb-boot-test: $(USB_IMG)
	@BUILD=$(BUILD) IMG=$(USB_IMG) tests/boot/usb_boot_test.sh

usb-write-test:
	@tests/usb/test_write_usb.sh

image-test:
	@tests/usb/test_mkimage.sh
# end of USB image, Secure Boot section

# ---- EFI shell commands (issue 5)
# make shell-test   OVMF's internal shell runs every inspection command and wrong input
#                   from a generated startup.nsh (two boots), then the start-up prompt of
#                   BOOTX64.EFI is driven through the serial console (a third boot)
.PHONY: shell-test
shell-test: $(BUILD)/kernel.efi | deps
	@tests/boot/shell_test.sh
# end of EFI shell commands section

# ---- framebuffer console and hardware matrix (issue 6) ---------------------------------------
# The console's font comes from a packaged PSF console font (console-setup-linux), turned into
# a C header at build time; FONT_PSF= picks another (PSF1 or PSF2, gzipped or not).
#   make fb-test        host test of the RGB, BGR and bitmask pixel formats
#   make screen-test    fb-test, then a boot whose screendump (QMP) must match the serial log
#                       row by row in the same font, then a boot without a serial port that
#                       must still put kernel: ready on the screen
#   make test-matrix    $(USB_IMG) on every machine configuration (tests/boot/matrix.sh);
#   make matrix-lean    the five that make test runs. Two boots at a time (MATRIX_JOBS=2).
.PHONY: screen-test test-matrix matrix-lean
FONT_PSF ?= /usr/share/consolefonts/Lat2-Terminus16.psf.gz
FONT_HDR := $(BUILD)/kernel/gen/font_data.h

$(FONT_HDR): scripts/psf2c.py | deps
	@mkdir -p $(@D)
	python3 scripts/psf2c.py $(FONT_PSF) > $@.tmp && mv $@.tmp $@
# Only fbcon.c includes the font: spelled out so that a fresh tree generates it first.
$(BUILD)/kernel/kernel/console/fbcon.o: $(FONT_HDR)
KERNEL_CFLAGS += -I$(BUILD)/kernel/gen

# kernel/console/fb.c's pixel formats on the host (OVMF under QEMU only offers BGR).
FB_TEST := $(BUILD)/host/fb_format_test
$(FB_TEST): tests/host/fb_format_test.c kernel/console/fb.c kernel/console/fb.h $(PAGING_SRC)
	@mkdir -p $(@D)
	$(HOST_CC) $(filter-out -MMD -MP,$(HOST_CFLAGS)) -Ikernel -Ikernel/console -Icommon \
		tests/host/fb_format_test.c kernel/console/fb.c $(PAGING_SRC) $(HOST_LDFLAGS) -o $@
.PHONY: fb-test
fb-test: $(FB_TEST)
	$(FB_TEST)

screen-test: all $(FB_TEST)
	@FB_TEST=$(FB_TEST) FONT_PSF=$(FONT_PSF) tests/boot/screen_test.sh
test-matrix: all $(USB_IMG)
	@IMG=$(USB_IMG) tests/boot/matrix.sh full
matrix-lean: all $(USB_IMG)
	@IMG=$(USB_IMG) tests/boot/matrix.sh lean
# end of framebuffer console and hardware matrix section

# ---- kernel self-tests and drills (issues 4 and 7) ------------------------------------------
#   make selftest-test   boots the image under OVMF (TCG), two at a time: the normal boot (every
#                        paging-tour check passes), `kernel.efi boot test` (in-kernel self-tests,
#                        0 failed, isa-debug-exit status 33) and the fault drills null, text,
#                        stack and nx (each report's cause, CR2 and error bits; status 37).
#                        isa-debug-exit codes (kernel/arch/fault.h): 33 pass, 35 fail, 37 drill done.
#                        SELFTEST_TIMEOUT=120 (per boot), SELFTEST_JOBS=2, QEMU_CPU=max.
.PHONY: selftest-test
selftest-test: all
	@tests/boot/selftest_test.sh
# end of kernel self-tests and drills section

# ---- firmware quirks (issue 7) -------------------------------------------------------------
#   make quirks-test     boots under OVMF (TCG), at most two QEMU at once: `boot stale-key` (the
#                        first ExitBootServices sees a stale map key; the retry must carry the
#                        boot), a normal boot with 1 GiB and with 6 GiB (a frame allocated after
#                        the tables were built read through the physmap; the physmap covers
#                        every RAM-like region of the final map) and `boot test` (the reclaim
#                        self-test fills every boot-reclaimable frame).
#                        QUIRKS_TIMEOUT=180 (per boot), QUIRKS_JOBS=2, QUIRKS_BOOTS (a subset).
.PHONY: quirks-test
quirks-test: all
	@tests/boot/quirks_test.sh
# end of firmware quirks section

# ---- firmware state (issue 10): late failures on the screen, U-Boot ---------------------------
# efi/latefb.c draws the EFI stage's failures after ExitBootServices in the kernel's font.
#   make firmware-test   OVMF boots: `boot late-fail` (red band and text in a screendump),
#                        `boot drill=panic` (a panic before the console reaches the screen),
#                        the GOP on the console-out handle, the first GOP with two screens
#                        (FIRMWARE_TIMEOUT=120 per boot, one QEMU at a time)
.PHONY: firmware-test
EFI_CFLAGS += -I$(BUILD)/kernel/gen
$(BUILD)/efi/efi/latefb.o: $(FONT_HDR)
firmware-test: all
	@FONT_PSF=$(FONT_PSF) tests/boot/firmware_test.sh

# ---- U-Boot, the second UEFI implementation (issue 10) ---------------------------------------
#   make run-uboot    $(USB_IMG) as an AHCI disk on U-Boot's UEFI (Debian u-boot-qemu,
#                     qemu-x86_64/u-boot.rom), default environment and autoboot; serial here
#   make uboot-test   the same boot, its report checked to kernel: ready (UBOOT_TIMEOUT=240)
.PHONY: run-uboot uboot-test
run-uboot: $(USB_IMG)
	@scripts/qemu-uboot.sh --serial $(USB_IMG)
uboot-test: $(USB_IMG)
	@IMG=$(USB_IMG) tests/boot/uboot_test.sh
# end of U-Boot section

# ---- the learner's path (issue 13) ---------------------------------------------------------
#   make shell            OVMF's UEFI shell with the ESP as fs0: and nothing booted on its own
#                         (no BOOTX64.EFI; startup.nsh only changes to fs0: and says what to type)
#   make selftest         the kernel's self-test mode on this terminal; exits 0 on pass
#                         (isa-debug-exit status 33), non-zero otherwise (SELFTEST_TIMEOUT=300)
#   make run INSPECT=1    straight to the kernel.efi> prompt (startup.nsh: kernel.efi inspect)
#   make playground-test  the guide's exercise (docs/from-the-post.md) compiled into the kernel
#                         playground in build-playground/, booted, its lines checked
#   make guide-test       every host code block of the guide compiled with paging/ and run,
#                         its output compared with the guide; transcripts against a boot
#   make figure           docs/address-space.svg from a real boot's tables (FIGURE_LOG= a log)
#   make learner-test     make shell (memmap, inspect, exit), make selftest's exit status and
#                         the QEMU_MEM minimum, driven as a user would (tests/boot/learner_test.sh)
.PHONY: shell selftest inspect-esp playground-test guide-test figure learner-test
SELFTEST_TIMEOUT ?= 300
KERNEL_CFLAGS += $(KERNEL_EXTRA_CFLAGS)

# esp_with DIR, STARTUP-LINES: an ESP holding kernel.efi and a startup.nsh, no BOOTX64.EFI,
# so OVMF ends in its shell and the script decides what runs.
define esp_with
	@rm -rf $(1) && mkdir -p $(1)
	@cp $(BUILD)/kernel.efi $(1)/kernel.efi
	@printf '@echo -off\r\nfs0:\r\n%s\r\n' $(2) >$(1)/startup.nsh
endef

shell: $(BUILD)/kernel.efi
	$(call esp_with,$(BUILD)/esp-shell,'echo "make shell: fs0: is the ESP. Next: kernel.efi memmap (kernel.efi help lists the rest)"')
	@scripts/qemu.sh --serial $(BUILD)/esp-shell
inspect-esp: $(BUILD)/kernel.efi
	$(call esp_with,$(BUILD)/esp-inspect,'kernel.efi inspect')
selftest: $(BUILD)/kernel.efi
	$(call esp_with,$(BUILD)/esp-selftest,'kernel.efi boot test')
	@scripts/qemu.sh --serial --timeout $(SELFTEST_TIMEOUT) --expect-exit 33 $(BUILD)/esp-selftest

playground-test: all
	@tests/boot/playground_test.sh
learner-test: all
	@tests/boot/learner_test.sh
guide-test: $(BUILD)/kernel.efi
	@tests/guide/guide_test.sh
figure: $(BUILD)/kernel.efi
	@scripts/figure.sh $(FIGURE_LOG)
# end of the learner's path section
include mk/smp.mk
include mk/user.mk
include mk/handoff.mk

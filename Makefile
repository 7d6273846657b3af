# One non-recursive Makefile. Everything is built out of tree under build/:
#   build/host    paging/ + host unit tests (ASan + UBSan)
#   build/model   randomized model test,   build/fuzz  libFuzzer target (clang)
#   build/bench   benchmark (-O2, no sanitizers)
#   build/efi, build/kernel, build/esp   the bootable image (see the EFI section)
# `make help` lists the targets.

BUILD   ?= build
HOST_CC ?= cc
FUZZ_CC ?= clang
SEED    ?=
OPS     ?= 1000000
FUZZ_SECONDS ?= 60

.DEFAULT_GOAL := all
.PHONY: all help test test-host test-model fuzz fuzz-short bench clean deps

PAGING_SRC := $(wildcard paging/*.c)
WARN       := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
HOST_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -g -O1 $(WARN) -Ipaging -Iefi/pure -Itests/host \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -MMD -MP
HOST_LDFLAGS := -fsanitize=address,undefined

# ---------------------------------------------------------------- host tests
# Pure (firmware-independent) EFI-stage code that the host tests exercise lives in efi/pure/.
PURE_SRC   := $(wildcard efi/pure/*.c)
UNIT_SRC   := tests/host/main.c tests/host/simram.c $(wildcard tests/host/test_*.c)
UNIT_OBJ   := $(patsubst %.c,$(BUILD)/host/%.o,$(PAGING_SRC) $(PURE_SRC) $(UNIT_SRC))

$(BUILD)/host/%.o: %.c
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/host/unit_tests: $(UNIT_OBJ)
	$(HOST_CC) $(HOST_LDFLAGS) $^ -o $@

-include $(UNIT_OBJ:.o=.d)

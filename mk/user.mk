# mk/user.mk - issue 14: the kernel heap's allocator core on the host, address spaces and
# user mode in QEMU.
#   make test-host        also runs tests/host/test_heap.c (heap_core with ASan + UBSan)
#   make test-heap-model  randomized model test of heap_core against a reference
#                         (HEAP_SEED=n HEAP_OPS=m; the seed is printed)
#   make fuzz-heap        libFuzzer over the same model (FUZZ_SECONDS, default 60)
#   make bench            gains the heap row: heap_core vs glibc malloc, same workload
#   make user-test        the self-test (heap, aspace, user, recursive) on lean CPUs, in parallel
.PHONY: test-heap-model fuzz-heap fuzz-heap-short user-test

HEAP_CORE := kernel/mm/heap_core.c
HEAP_OPS  ?= 1000000
HEAP_SEED ?=

# host unit tests: heap_core joins the unit binary (UNIT_OBJ too, for make mutate's relinks)
UNIT_OBJ += $(BUILD)/host/kernel/mm/heap_core.o
$(BUILD)/host/unit_tests: $(BUILD)/host/kernel/mm/heap_core.o
$(BUILD)/host/tests/host/test_heap.o: HOST_CFLAGS += -Ikernel/mm -Itests/heap
$(BUILD)/host/kernel/mm/heap_core.o: HOST_CFLAGS += -Ikernel/mm
-include $(BUILD)/host/kernel/mm/heap_core.d

# model test and fuzzer: tests/heap/heap_model.c is the reference and the interpreter
HEAP_MODEL_SRC := $(HEAP_CORE) tests/heap/heap_model.c tests/heap/model_main.c
HEAP_INC := -Ikernel/mm -Itests/heap
$(BUILD)/heap/model_test: $(HEAP_MODEL_SRC) $(wildcard tests/heap/*.h kernel/mm/heap_core.h)
	@mkdir -p $(@D)
	$(HOST_CC) $(filter-out -MMD -MP,$(HOST_CFLAGS)) $(HEAP_INC) $(HEAP_MODEL_SRC) $(HOST_LDFLAGS) -o $@
test-heap-model: $(BUILD)/heap/model_test
	$(BUILD)/heap/model_test --seed "$(HEAP_SEED)" --ops "$(HEAP_OPS)"

HEAP_FUZZ_SRC := $(HEAP_CORE) tests/heap/heap_model.c tests/fuzz/fuzz_heap.c
$(BUILD)/heap/fuzz_heap: $(HEAP_FUZZ_SRC) $(wildcard tests/heap/*.h kernel/mm/heap_core.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(filter-out -Itests/model,$(FUZZ_CFLAGS:-MMD=)) $(HEAP_INC) $(HEAP_FUZZ_SRC) -o $@
# make fuzz-heap FUZZ_SECONDS=n; fuzz-heap-short: 5 s (the fuzz set's short run)
fuzz-heap: $(BUILD)/heap/fuzz_heap
	@mkdir -p $(BUILD)/heap/corpus
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -artifact_prefix=$(BUILD)/heap/ $(BUILD)/heap/corpus
fuzz-heap-short: $(BUILD)/heap/fuzz_heap
	@mkdir -p $(BUILD)/heap/corpus
	@if $< -max_total_time=5 -max_len=4096 -artifact_prefix=$(BUILD)/heap/ $(BUILD)/heap/corpus >$(BUILD)/heap/fuzz.log 2>&1; \
	then tail -n 1 $(BUILD)/heap/fuzz.log; echo "ok   fuzz_heap 5 s"; echo "1 passed, 0 failed"; \
	else tail -n 30 $(BUILD)/heap/fuzz.log; echo "FAIL fuzz_heap"; echo "0 passed, 1 failed"; exit 1; fi

# The heap fuzzer joins the hardening set (make fuzz, make fuzz-harden[-short], make test).
HARDEN_FUZZERS += heap
$(HARDEN_DIR)/fuzz_heap: $(BUILD)/heap/fuzz_heap
	@mkdir -p $(@D)
	cp $< $@
fuzz-harden fuzz-harden-short: $(HARDEN_DIR)/fuzz_heap

# make bench: the heap row (bench/heap_bench.c) links into the same binary
HEAP_BENCH_OBJ := $(BUILD)/bench/obj/kernel/mm/heap_core.o $(BUILD)/bench/obj/bench/heap_bench.o
$(BUILD)/bench/bench: $(HEAP_BENCH_OBJ)
$(HEAP_BENCH_OBJ): BENCH_CFLAGS += -Ikernel/mm
-include $(HEAP_BENCH_OBJ:.o=.d)

# make user-test: tests/boot/user_test.sh (four boots, two at a time)
user-test: all
	@tests/boot/user_test.sh

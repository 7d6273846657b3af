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
HEAP_OPS  ?= 200000
HEAP_SEED ?=

# host unit tests: heap_core joins the unit binary
$(BUILD)/host/unit_tests: $(BUILD)/host/kernel/mm/heap_core.o
$(BUILD)/host/tests/host/test_heap.o: HOST_CFLAGS += -Ikernel/mm -Itests/heap
$(BUILD)/host/kernel/mm/heap_core.o: HOST_CFLAGS += -Ikernel/mm
-include $(BUILD)/host/kernel/mm/heap_core.d

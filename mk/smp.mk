# ---- SMP bring-up and TLB shootdown (issue 15) ------------------------------------------------
#   make fuzz-acpi       libFuzzer over common/acpi.c (RSDP, XSDT/RSDT, MADT), FUZZ_ACPI_SECONDS
#   make smp-test        -smp 4 self-test boot (stress, stale-read checker, shootdown latency),
#                        the SMP_MUTANT=noipi kernel whose checker must fail, a -smp 1 boot
#                        (online=1), the SMP_MUTANT=acpicut kernel (cut ACPI tables: the
#                        error named, one CPU), the SMP_MUTANT=apdead kernel (a CPU that never
#                        starts: timeout reported, online=3) and a short fuzz-acpi run;
#                        SMP_TIMEOUT per boot
.PHONY: fuzz-acpi smp-test
FUZZ_ACPI_SECONDS ?= 5
ACPI_FUZZ := $(BUILD)/fuzz-acpi/fuzz_acpi
$(ACPI_FUZZ): tests/fuzz/fuzz_acpi.c common/acpi.c common/acpi.h tests/host/acpi_build.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(HARDEN_FUZZ_CFLAGS) -Itests/host tests/fuzz/fuzz_acpi.c common/acpi.c -o $@
fuzz-acpi: $(ACPI_FUZZ)
	@mkdir -p $(BUILD)/fuzz-acpi/corpus $(BUILD)/fuzz-acpi/artifacts
	@if $(ACPI_FUZZ) -max_total_time=$(FUZZ_ACPI_SECONDS) -timeout=10 -max_len=4096 \
		-artifact_prefix=$(BUILD)/fuzz-acpi/artifacts/ $(BUILD)/fuzz-acpi/corpus \
		>$(BUILD)/fuzz-acpi/fuzz.log 2>&1; \
	then echo "ok   fuzz-acpi $(FUZZ_ACPI_SECONDS)s $$(grep -o 'stat::number_of_executed_units: [0-9]*' $(BUILD)/fuzz-acpi/fuzz.log || tail -n1 $(BUILD)/fuzz-acpi/fuzz.log)"; \
	else echo "FAIL fuzz-acpi (see $(BUILD)/fuzz-acpi/fuzz.log)"; exit 1; fi

# SMP_MUTANT=noipi: a kernel whose shootdown sends no IPI (only the local flush), used by
# smp-test to prove the stale-read checker sees the bug. Build it in its own BUILD.
KERNEL_CFLAGS += $(if $(SMP_MUTANT),-DSMP_MUTANT_$(SMP_MUTANT)=1)
# SMP_MUTANT=acpicut: ACPI tables read as if cut after 64 bytes; the kernel must name the
# error and stay on one CPU.
SMP_MUTANT_BUILD := $(BUILD)/smp-mutant
SMP_ACPICUT_BUILD := $(BUILD)/smp-acpicut
SMP_APDEAD_BUILD := $(BUILD)/smp-apdead
.PHONY: smp-mutant
smp-mutant:
	@$(MAKE) --no-print-directory BUILD=$(SMP_MUTANT_BUILD) SMP_MUTANT=noipi $(SMP_MUTANT_BUILD)/kernel.efi
	@$(MAKE) --no-print-directory BUILD=$(SMP_ACPICUT_BUILD) SMP_MUTANT=acpicut $(SMP_ACPICUT_BUILD)/kernel.efi
	@$(MAKE) --no-print-directory BUILD=$(SMP_APDEAD_BUILD) SMP_MUTANT=apdead $(SMP_APDEAD_BUILD)/kernel.efi
smp-test: all smp-mutant
	@MUTANT_BUILD=$(SMP_MUTANT_BUILD) ACPICUT_BUILD=$(SMP_ACPICUT_BUILD) \
		APDEAD_BUILD=$(SMP_APDEAD_BUILD) tests/boot/smp_test.sh
# end of SMP section

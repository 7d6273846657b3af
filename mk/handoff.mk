# ---- 5-level paging end to end, the handoff trampoline (issue 11) --------------------------
#   make la57on      $(BUILD)/test/la57on.efi: test-only EFI program that switches the running
#                    firmware to 5-level paging (PML5[0] = its PML4), then starts \kernel.efi
#                    from the same volume with its own load options. Never on the stick or ESP.
#   make la57-test   boots under -cpu max,+la57 (two at a time): la57on then the default image
#                    (levels=4), la57on then boot --levels 5, boot --levels 5 from the shell,
#                    test --levels 5 (self-tests), and --levels 5 under -cpu max,-la57 (refused).
#                    Each checks kernel: ready and CR4.LA57 from QEMU's monitor (info registers).
#                    LA57_TIMEOUT=150 (per boot), LA57_JOBS=2.
#   HANDOFF_MUTANT=1 (with its own BUILD=): the trampoline never sets CR4.LA57; =2: it keeps
#                    the firmware's IDT. Each must make the suite fail.
.PHONY: la57on la57-test
EFI_CFLAGS += $(if $(HANDOFF_MUTANT),-DHANDOFF_MUTANT=$(HANDOFF_MUTANT))
LA57ON_EFI := $(BUILD)/test/la57on.efi
LA57ON_OBJ := $(BUILD)/efi/efi/test/la57on.o $(BUILD)/efi/efi/handoff.o $(BUILD)/efi/efi/trampoline.o

$(BUILD)/efi/la57on.so: $(LA57ON_OBJ)
	$(LD) $(filter-out -e stage_entry,$(EFI_LDFLAGS)) $(EFI_CRT0) $(LA57ON_OBJ) -o $@ -lefi -lgnuefi
$(LA57ON_EFI): $(BUILD)/efi/la57on.so
	@mkdir -p $(@D)
	$(OBJCOPY) $(foreach s,$(EFI_SECTIONS),-j '$(s)') --target efi-app-x86_64 --subsystem=10 $< $@

-include $(BUILD)/efi/efi/test/la57on.d

la57on: $(LA57ON_EFI)
all: $(LA57ON_EFI)
la57-test: $(BUILD)/kernel.efi $(LA57ON_EFI) | deps
	@BUILD=$(BUILD) tests/boot/la57_test.sh
# end of 5-level paging section

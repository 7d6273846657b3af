#!/bin/sh
# debug-help.sh - what make debug prints: how to attach gdb to the QEMU it starts, with the
# kernel's symbols (linked where it runs) and the EFI stage's (linked at 0, loaded by the
# firmware wherever it likes: the stage prints its base as "efi: image base=0x...").
#   debug-help.sh BUILD_DIR
set -eu
b=${1:?usage: debug-help.sh BUILD_DIR}
text=$(objdump -h "$b/efi/kernel.so" | awk '$2 == ".text" { print "0x" $4 }')
cat <<MSG
$b/ is built at -Og -g3. QEMU waits for gdb on :1234 (QEMU_MEM etc. as for make run).

The kernel (hardware breakpoints: its addresses exist only after the handoff):
  gdb $b/kernel/kernel.elf -ex 'target remote :1234' -ex 'hbreak kernel_main' -ex continue

The EFI stage: the serial log shows "efi: image base=0xBASE text=0x..." (text = BASE + $text,
where .text sits in kernel.so). OVMF loads it at the same BASE on every boot of the same
configuration, so take BASE from one boot, then in gdb:
  target remote :1234
  add-symbol-file $b/efi/kernel.so -o 0xBASE
  hbreak efi_main
  monitor system_reset
  continue
(without the reset, a boot already past efi_main; -o shifts every section by BASE)
MSG

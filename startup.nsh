@echo -off
# startup.nsh - run by the UEFI shell at start-up: finds kernel.efi on fs0: .. fs9:
# and boots it. To inspect instead, press ESC at the shell's countdown and run
# "fsN:\kernel.efi help" yourself.
for %a run (0 9)
  if exist fs%a:\kernel.efi then
    echo "startup.nsh: booting fs%a:\kernel.efi (to stop and inspect instead: reboot, press ESC at the shell countdown, then run fs%a:\kernel.efi help)"
    fs%a:
    fs%a:\kernel.efi boot
    echo "startup.nsh: fs%a:\kernel.efi returned; the shell is yours"
    exit
  endif
endfor
echo "startup.nsh: kernel.efi not found on fs0: .. fs9:"

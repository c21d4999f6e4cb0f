#!/usr/bin/env bash
# Seeds the fuzz corpora from the real processes of this machine: /proc/PID/stat, task stats,
# status, maps, fdinfo (+ the fd's link text), names (comm, cmdline, exe link), and ELF images
# (executables and libraries on disk, this process's vDSO from memory).
#   seed.sh CORPUS_ROOT   (creates CORPUS_ROOT/{stat,status,maps,fdinfo,utf8,elf})
set -u
root=${1:?usage: seed.sh CORPUS_ROOT}
mkdir -p "$root"/{stat,status,maps,fdinfo,utf8,elf}
n=0
for dir in /proc/[0-9]*; do
  pid=${dir#/proc/}
  n=$((n + 1))
  [ "$n" -gt 60 ] && break
  cat "$dir/stat" > "$root/stat/$pid" 2>/dev/null || rm -f "$root/stat/$pid"
  k=0
  for t in "$dir"/task/[0-9]*; do
    k=$((k + 1)); [ "$k" -gt 4 ] && break
    cat "$t/stat" > "$root/stat/$pid-${t##*/}" 2>/dev/null || rm -f "$root/stat/$pid-${t##*/}"
  done
  cat "$dir/status" > "$root/status/$pid" 2>/dev/null || rm -f "$root/status/$pid"
  cat "$dir/maps" > "$root/maps/$pid" 2>/dev/null || rm -f "$root/maps/$pid"
  [ -s "$root/maps/$pid" ] || rm -f "$root/maps/$pid"
  k=0
  for f in "$dir"/fdinfo/[0-9]*; do
    k=$((k + 1)); [ "$k" -gt 8 ] && break
    fd=${f##*/}
    { cat "$f" && printf '\0' && readlink "$dir/fd/$fd"; } > "$root/fdinfo/$pid-$fd" 2>/dev/null ||
      rm -f "$root/fdinfo/$pid-$fd"
  done
  cat "$dir/comm" > "$root/utf8/comm-$pid" 2>/dev/null || rm -f "$root/utf8/comm-$pid"
  cat "$dir/cmdline" > "$root/utf8/cmdline-$pid" 2>/dev/null || rm -f "$root/utf8/cmdline-$pid"
  readlink "$dir/exe" > "$root/utf8/exe-$pid" 2>/dev/null || rm -f "$root/utf8/exe-$pid"
done
# A few names that are not ASCII, as files and threads may carry them.
printf 'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d \xff\xfe broken \xc3' > "$root/utf8/mixed"
# ELF images: the first 64 KiB of real executables and libraries (headers, program headers,
# notes), and this shell's vDSO copied from its memory.
for f in /bin/sh /bin/ls "$(command -v node)" /lib/x86_64-linux-gnu/libc.so.6 \
         /lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/libm.so.6; do
  [ -r "$f" ] && head -c 65536 "$f" > "$root/elf/$(basename "$f")"
done
if command -v python3 > /dev/null; then
  python3 - "$root/elf/vdso" <<'PY' 2>/dev/null || true
import sys
for line in open('/proc/self/maps'):
    if line.rstrip().endswith('[vdso]'):
        a, b = (int(x, 16) for x in line.split()[0].split('-'))
        with open('/proc/self/mem', 'rb') as m:
            m.seek(a)
            open(sys.argv[1], 'wb').write(m.read(b - a))
PY
fi
for c in stat status maps fdinfo utf8 elf; do
  printf '%s: %s seeds\n' "$c" "$(ls "$root/$c" | wc -l)"
done

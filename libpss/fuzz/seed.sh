#!/usr/bin/env bash
# Seeds the fuzz corpora from the real processes of this machine: /proc/PID/stat, task stats,
# status, maps, fdinfo (+ the fd's link text), names (comm, cmdline, exe link), ELF images
# (executables and libraries on disk, this process's vDSO from memory), smaps, the task
# stat/status/syscall files, and /proc/net/* tables (python3).
#   seed.sh CORPUS_ROOT
#   (creates CORPUS_ROOT/{stat,status,maps,fdinfo,utf8,elf,regions,tasks,net})
set -u
root=${1:?usage: seed.sh CORPUS_ROOT}
mkdir -p "$root"/{stat,status,maps,fdinfo,utf8,elf,regions,tasks,net}
# FILE SRC: the whole lines of SRC within its first 16 KiB (fuzz_maps' and fuzz_regions'
# max_len: each run parses all of its input, so larger inputs only run slower); an empty
# result is removed.
lines16k() {
  head -c 16384 "$2" > "$1" 2>/dev/null || { rm -f "$1"; return; }
  [ -s "$1" ] || { rm -f "$1"; return; }
  [ "$(tail -c 1 "$1" | od -An -tx1 | tr -d ' ')" = 0a ] || sed -i '$d' "$1"
  [ -s "$1" ] || rm -f "$1"
}
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
  lines16k "$root/maps/$pid" "$dir/maps"
  k=0
  for f in "$dir"/fdinfo/[0-9]*; do
    k=$((k + 1)); [ "$k" -gt 8 ] && break
    fd=${f##*/}
    { cat "$f" && printf '\0' && readlink "$dir/fd/$fd"; } > "$root/fdinfo/$pid-$fd" 2>/dev/null ||
      rm -f "$root/fdinfo/$pid-$fd"
  done
  lines16k "$root/regions/$pid" "$dir/smaps" # about 20 VMAs with their counters
  # Task files for fuzz_tasks: a first byte picks the parser (0 stat, 1 status, 2 syscall).
  k=0
  for t in "$dir"/task/[0-9]*; do
    k=$((k + 1)); [ "$k" -gt 2 ] && break
    i=0
    for f in stat status syscall; do
      out="$root/tasks/$f-$pid-${t##*/}"
      { printf "\\$i" && cat "$t/$f"; } > "$out" 2>/dev/null || rm -f "$out"
      i=$((i + 1))
    done
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
# /proc/net tables for fuzz_net: a first byte picks the table (its index in linux_ext_handles.c's
# NET_FILE: tcp .. icmp6, unix, netlink, packet), then at most 8 KiB of its text; 13 and up:
# fdinfo text (and an fd link) for parse_fdinfo.
if command -v python3 > /dev/null; then
  python3 - "$root/net" <<'PY' 2>/dev/null || true
import os, sys
root = sys.argv[1]
tables = ["tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6", "icmp", "icmp6",
          "unix", "netlink", "packet"]
for i, name in enumerate(tables):
    try:
        text = open("/proc/net/" + name, "rb").read()
    except OSError:
        continue
    open(os.path.join(root, name), "wb").write(bytes([i]) + text[:8191])
n = 0
for pid in sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int):
    if n >= 24:
        break
    try:
        for fd in sorted(os.listdir(f"/proc/{pid}/fdinfo"), key=int)[:4]:
            info = open(f"/proc/{pid}/fdinfo/{fd}", "rb").read()
            link = os.readlink(f"/proc/{pid}/fd/{fd}").encode()
            path = os.path.join(root, f"fdinfo-{pid}-{fd}")
            open(path, "wb").write(bytes([13]) + info[:4000] + link)
            n += 1
    except OSError:
        pass
PY
fi
for c in stat status maps fdinfo utf8 elf regions tasks net; do
  printf '%s: %s seeds\n' "$c" "$(ls "$root/$c" | wc -l)"
done

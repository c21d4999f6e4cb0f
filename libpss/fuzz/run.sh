#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each on its corpus (seeded from this machine's
# /proc by seed.sh, plus the committed regressions/ inputs), then prints and writes a summary
# (build/fuzz/summary.json): executions, coverage (edges, features), corpus size, crashes.
# Exit status 1 if any target found a crash (its input is saved in build/fuzz/artifacts/).
#   run.sh BUILD_DIR SECONDS TARGET...
set -u
build=${1:?usage: run.sh BUILD_DIR SECONDS TARGET...}
secs=${2:?seconds}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build/artifacts" "$build/tmp" "$build/logs"
tmp="$build/tmp"
if [ ! -d "$build/seeds" ]; then "$here/seed.sh" "$build/seeds" > /dev/null; fi
failed=0
json="["
for t in "$@"; do
  name=${t#fuzz_}
  corpus="$build/corpus/$name"
  mkdir -p "$corpus"
  regress="$here/regressions/$name"
  dirs=("$corpus" "$build/seeds/$name")
  [ -d "$regress" ] && dirs+=("$regress")
  log="$build/logs/$name.log"
  # Inputs as large as the real files they stand for, no larger (each run parses all of it):
  # ELF headers 64 KiB, maps and smaps 16 KiB (~200 mappings, ~20 VMAs with counters: several
  # of fuzz_maps' and fuzz_regions' 4 KiB reads), task files 4 KiB (read_thread's buffer), the
  # rest 8 KiB.
  case $name in elf) maxlen=65536 ;; maps | regions) maxlen=16384 ;; tasks) maxlen=4096 ;;
    *) maxlen=8192 ;; esac
  known=$(ls "$build/artifacts" | grep -c "^$name-" || true)
  TMPDIR="$tmp" "$build/$t" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$name-" "${dirs[@]}" > "$log" 2>&1
  status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
  corp=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
  crashes=$(($(ls "$build/artifacts" | grep -c "^$name-" || true) - known))
  printf '%-8s %10s execs %8s/s  cov %5s  ft %6s  corpus %5s  crashes %s%s\n' "$name" \
    "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" \
    "$([ "$status" -ne 0 ] && echo "  FAILED (exit $status, see $log)")"
  [ "$status" -ne 0 ] && failed=1
  json="$json{\"target\":\"$name\",\"seconds\":$secs,\"executions\":${execs:-0},\"execsPerSecond\":${rate:-0},\"coverageEdges\":${cov:-0},\"features\":${ft:-0},\"corpus\":${corp:-0},\"crashes\":$crashes,\"exit\":$status},"
done
printf '%s]\n' "${json%,}" > "$build/summary.json"
if [ "$failed" -ne 0 ]; then
  echo "fuzzing found a problem: inputs in $build/artifacts/, logs in $build/logs/" >&2
  exit 1
fi

#!/usr/bin/env bash
# Fuzzes what Overcast reads from outside with libFuzzer, each target for a bounded time:
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s; advert config ec2 http-answer dns-answer smtp-reply)
# Builds overcast-fuzz with -sanitize=fuzzer in .build-fuzz, starts from the seeds in
# Fuzz/corpus/TARGET (plus keepalived's shipped sample configurations for `config`),
# and keeps what it learns in .build-fuzz/corpus (not in the repo). A crash is written to
# Fuzz/crashes/ and fails the run: reproduce it with `overcast-fuzz TARGET FILE` from a
# normal build, fix it, and move the file to Fuzz/regressions/TARGET/ so the unit tests
# replay it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(advert config ec2 http-answer dns-answer smtp-reply)

echo "building overcast-fuzz with libFuzzer..."
swift build --build-path .build-fuzz --product overcast-fuzz \
  -Xswiftc -sanitize=fuzzer -Xswiftc -D -Xswiftc FUZZING >/dev/null
bin=.build-fuzz/debug/overcast-fuzz
mkdir -p Fuzz/crashes
status=0
for target in "${targets[@]}"; do
  work=.build-fuzz/corpus/$target
  mkdir -p "$work"
  # Git keeps no empty folder: a target without regressions yet has none.
  seeds=("Fuzz/corpus/$target")
  [ -d "Fuzz/regressions/$target" ] && seeds+=("Fuzz/regressions/$target")
  if [ "$target" = config ] && [ -d /usr/share/doc/keepalived/samples ]; then seeds+=(/usr/share/doc/keepalived/samples); fi
  echo "== fuzzing $target for ${seconds}s =="
  if ! OVERCAST_FUZZ_TARGET=$target "$bin" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
       -artifact_prefix="Fuzz/crashes/$target-" -print_final_stats=1 "$work" "${seeds[@]}" 2>"$work.log"; then
    echo "fuzz $target: FAILED: a crash (written to Fuzz/crashes/) or the fuzzer could not run; see $work.log" >&2
    tail -40 "$work.log" >&2
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov:" "$work.log" | tail -3 || true
done
exit $status

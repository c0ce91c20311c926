# Sourced by the side-by-side benchmarks: one target process at a time in the background. `bench_target_start LOG
# COMMAND...` starts it (output to LOG), `bench_target_stop` stops it and waits (also on exit).
bench_target=
bench_target_stop() {
  if [[ -n "$bench_target" ]]; then
    kill "$bench_target" 2>/dev/null || true
    wait "$bench_target" 2>/dev/null || true
    bench_target=
  fi
}
trap bench_target_stop EXIT
bench_target_start() {
  local log=$1
  shift
  "$@" > "$log" 2>&1 &
  bench_target=$!
}

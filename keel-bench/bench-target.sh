# Sourced by the side-by-side benchmarks: one target process at a time in the background. `bench_target_start LOG
# COMMAND...` starts it (output to LOG), `bench_target_stop` stops it and waits (also on exit).
# `vhost_null_target_json NUM_BLOCKS BLOCK_SIZE` prints the JSON config the vhost benchmarks give Keel and SPDK alike:
# a null bdev Null0 served as vhost-blk controller vhost.0 on core 0.
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
vhost_null_target_json() {
  cat <<JSON
{"subsystems":[
 {"subsystem":"bdev","config":[
  {"method":"bdev_null_create","params":{"name":"Null0","num_blocks":$1,"block_size":$2}}]},
 {"subsystem":"vhost_blk","config":[
  {"method":"vhost_create_blk_controller","params":{"ctrlr":"vhost.0","dev_name":"Null0","cpumask":"0x1"}}]}]}
JSON
}

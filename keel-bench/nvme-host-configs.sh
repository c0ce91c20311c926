# Sourced by the NVMe-oF host benchmarks: writes $dir/nvme-host-target.json (Keel's target: a 1 GiB null bdev,
# 4 KiB blocks, as NSID 1 of $nqn on 127.0.0.1:$port) and $dir/nvme-host.json (a host's bdev config attaching it
# as Nvme0). Needs $dir, $nqn and $port.
cat > "$dir/nvme-host-target.json" <<JSON
{"subsystems":[
 {"subsystem":"bdev","config":[
  {"method":"bdev_null_create","params":{"name":"Null0","num_blocks":262144,"block_size":4096}}]},
 {"subsystem":"nvmf","config":[
  {"method":"nvmf_create_transport","params":{"trtype":"TCP"}},
  {"method":"nvmf_create_subsystem","params":{"nqn":"$nqn","allow_any_host":true}},
  {"method":"nvmf_subsystem_add_ns","params":{"nqn":"$nqn","namespace":{"bdev_name":"Null0","nsid":1}}},
  {"method":"nvmf_subsystem_add_listener","params":{"nqn":"$nqn","listen_address":
    {"trtype":"TCP","adrfam":"IPv4","traddr":"127.0.0.1","trsvcid":"$port"}}}]}]}
JSON
cat > "$dir/nvme-host.json" <<JSON
{"subsystems":[{"subsystem":"bdev","config":[
 {"method":"bdev_nvme_attach_controller","params":{"name":"Nvme0","trtype":"TCP","adrfam":"IPv4",
   "traddr":"127.0.0.1","trsvcid":"$port","subnqn":"$nqn"}}]}]}
JSON

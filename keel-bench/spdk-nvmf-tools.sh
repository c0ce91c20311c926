# Sourced by the NVMe/TCP benchmarks against SPDK's tools (compare-spdk.sh, profile-spdk.sh,
# nvmf-runs-per-connection.sh): finds nvmf_tgt and spdk_nvme_perf — in $SPDK_BIN, or by sourcing $SPDK_ENV (default
# /var/tmp/spdk-peer/spdk-env.sh, see ../shared/peers/spdk/README.md) — and without them says so and exits 0 (they
# are not part of ./test.sh). Defines `wait_tcp_listener PORT WHAT LOG`: waits up to 30 s until 127.0.0.1:PORT
# accepts, else says that WHAT did not listen (see LOG) and exits 1.
if [[ -z "${SPDK_BIN:-}" && -f "${SPDK_ENV:-/var/tmp/spdk-peer/spdk-env.sh}" ]]; then
  # shellcheck disable=SC1090
  . "${SPDK_ENV:-/var/tmp/spdk-peer/spdk-env.sh}" >/dev/null 2>&1
fi
if [[ ! -x "${SPDK_BIN:-}/nvmf_tgt" || ! -x "${SPDK_BIN:-}/spdk_nvme_perf" ]]; then
  echo "$(basename "$0"): SPDK's nvmf_tgt and spdk_nvme_perf are not here (set SPDK_BIN; see ../shared/peers/spdk/README.md): nothing to do"
  exit 0
fi
wait_tcp_listener() { # PORT WHAT LOG
  for _ in $(seq 150); do
    if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1', $1)))"; then
      return 0
    fi
    sleep 0.2
  done
  echo "$2 did not listen on port $1: see $3" >&2
  exit 1
}

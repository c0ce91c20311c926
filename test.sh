#!/usr/bin/env bash
# Runs every test of Keel: unit, simulation, integration and end-to-end (./keel as a separate process).
# Extra arguments go to Maven, e.g. ./test.sh -pl keel-core -Dtest=RpcServerTest
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scripts/env.sh"
keel_find_jdk
keel_find_maven
cd "$keel_root"
echo "test.sh: JDK $JAVA_HOME" >&2
# package first so the end-to-end tests can run ./keel against fresh jars
mvn -B -ntp verify "$@"
touch keel-app/target/lib/.built 2>/dev/null || true

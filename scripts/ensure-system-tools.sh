#!/bin/sh
# Install the Debian packages the template tests run and are missing: chromium (the browser
# tests drive /usr/bin/chromium with playwright, whose own browser download is not used), wrk
# (the generated project's `make bench-serve`, run by tests/test_benchmarks.py), and podman,
# buildah, mmdebstrap and runc (tests/test_image.py builds and runs each baked project's
# Dockerfile with them, on a Debian base image made locally: scripts/containers.py),
# PostgreSQL (the team set-up's tests start a throwaway cluster: scripts/services.py) and a
# Java 17 runtime (Spark in local mode, tests/test_spark.py). Needs
# root (or sudo) and apt; does nothing when every tool is there.
set -eu
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
for tool in wrk podman buildah mmdebstrap runc; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
command -v java >/dev/null 2>&1 || missing="$missing openjdk-17-jre-headless"
if [ -z "$missing" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-system-tools: missing:$missing, and apt-get is not available;" \
        "install them (chromium at /usr/bin/chromium) to run the template tests" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "ensure-system-tools: installing Debian's$missing (apt-get)" >&2
$sudo apt-get update -qq
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing

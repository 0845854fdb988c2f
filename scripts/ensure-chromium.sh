#!/bin/sh
# Install Debian's chromium when it is missing: the browser tests (tests/test_web.py,
# tests/test_report.py) drive /usr/bin/chromium with playwright, whose own browser
# download is not used. Needs root (or sudo) and apt; does nothing when chromium is there.
set -eu
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: /usr/bin/chromium is missing and apt-get is not available;" \
        "install Chromium at /usr/bin/chromium to run the browser tests" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "ensure-chromium: installing Debian's chromium (apt-get)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium

#!/usr/bin/env bash
# Install the Debian packages outdial's tests talk to, when they are missing:
# SIPp (sip-tester) plays the far end of real SIP calls, PostgreSQL is the
# production database, espeak-ng and sox make test prompts and recordings, baresip is a
# real softphone as the agent, Chromium (with a Chinese font) renders the web console's pages.
# The pjsua2 build (scripts/build_pjsua2.py) needs a C/C++ toolchain, SWIG, OpenSSL and
# libuuid headers; `--build` installs only those (what `make run` needs).
set -euo pipefail

need=()
command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || need+=(build-essential)
command -v swig >/dev/null 2>&1 || need+=(swig)
dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)
dpkg -s uuid-dev >/dev/null 2>&1 || need+=(uuid-dev)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
# Python.h of the interpreter the wheel is built for (Debian's python3.11 needs -dev)
"${PYTHON:-python3}" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || need+=(python3.11-dev)
if [ "${1:-}" != "--build" ]; then
  command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
  { command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || need+=(postgresql)
  command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
  command -v sox >/dev/null 2>&1 || need+=(sox)
  command -v baresip >/dev/null 2>&1 || need+=(baresip-core)  # a real agent phone (tests/sip)
  # the web console's browser tests: Debian's Chromium, and a CJK font for the zh-CN pages
  [ -x /usr/bin/chromium ] || need+=(chromium)
  fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
fi

if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to install: ${need[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null \
  || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; }
# Debian's postgresql package starts a cluster of its own; the tests start theirs.
$sudo systemctl stop postgresql >/dev/null 2>&1 || true

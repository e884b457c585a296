#!/usr/bin/env bash
# Installs the Debian packages the app needs to render PDFs (Pango, HarfBuzz subsetting, a Chinese font) when they
# are missing. As root on Debian/Ubuntu it installs them; otherwise it prints the one apt command to run, and fails.
# Usage: scripts/system-deps.sh [--browser]   (--browser also installs Debian's chromium for the browser tests)
set -u
need=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib 'libpango-1.0.so.0' || need+=(libpango-1.0-0)
have_lib 'libpangoft2-1.0.so.0' || need+=(libpangoft2-1.0-0)
have_lib 'libharfbuzz-subset.so.0' || need+=(libharfbuzz-subset0)
if ! fc-list 2>/dev/null | grep -q 'Noto Sans CJK'; then need+=(fonts-noto-cjk fontconfig); fi
if [ "${1:-}" = "--browser" ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
[ ${#need[@]} -eq 0 ] && exit 0
cmd="apt-get install -y --no-install-recommends ${need[*]}"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo ">> installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! $cmd >/tmp/venture-apt.log 2>&1; then
    apt-get update >/tmp/venture-apt-update.log 2>&1 || true
    $cmd >/tmp/venture-apt.log 2>&1 || { echo "!! apt-get failed; see /tmp/venture-apt.log"; tail -5 /tmp/venture-apt.log; exit 1; }
  fi
  exit 0
fi
echo "!! Missing system packages. Run this once, then try again:"
echo "   sudo $cmd"
exit 1

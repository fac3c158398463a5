#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through Playwright (never `playwright install`),
# with a CJK font so that screenshots of the Chinese UI show characters, not boxes.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if command -v fc-list >/dev/null 2>&1; then
  fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
else
  missing+=(fonts-wqy-microhei)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "The browser tests need: ${missing[*]} (Debian: apt-get install -y ${missing[*]})." >&2
  exit 1
fi
echo "Installing ${missing[*]} for the browser tests ..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null

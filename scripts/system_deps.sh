#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (Chromium for browser tests,
# pango for WeasyPrint, poppler for reading PDFs back, zbar for decoding payment QR codes
# from screenshots and PDFs, Dovecot as the IMAP server the mailbox tests start on 127.0.0.1),
# only when one is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v pdftotext >/dev/null || need+=(poppler-utils)
command -v zbarimg >/dev/null || need+=(zbar-tools)
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
ldconfig -p | grep -q libpangoft2-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "Missing Debian packages: ${need[*]}. Install them (apt-get install ${need[*]}) and retry." >&2
  exit 1
fi
echo "Installing Debian packages: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

#!/usr/bin/env bash
# Installs what the pipeline and its tests need on a fresh machine: npm packages, and from Debian the
# clients and servers the integration tests drive (kcat, Chromium, PostgreSQL) and docker-compose, whose
# `config` parses and validates localstack/docker-compose.yml without a container engine. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v kcat >/dev/null 2>&1 || need+=(kcat)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm ci also applies patches/ (postinstall: patch-package); a changed patch means a fresh install too.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
  [ -n "$(find patches -newer node_modules/.package-lock.json 2>/dev/null)" ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund
fi

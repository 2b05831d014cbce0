#!/usr/bin/env bash
# Set up what Qiaomen needs on a Debian/Ubuntu machine: OS geo libraries, a Python that can load SQLite
# extensions, and .venv with the pinned requirements. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.venv
say() { printf '\033[1;34m[qiaomen]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[qiaomen] %s\033[0m\n' "$*" >&2; exit 1; }

# 1. OS packages (GDAL, GEOS, PROJ, mod_spatialite, venv). Only installed when missing.
missing=()
ldconfig -p 2>/dev/null | grep -q 'libgdal\.so' || missing+=(gdal-bin libgdal-dev)
ldconfig -p 2>/dev/null | grep -q 'libgeos_c\.so' || missing+=(libgeos-c1v5)
ldconfig -p 2>/dev/null | grep -q 'libproj\.so' || missing+=(libproj-dev)
# A CJK TrueType font that reportlab can embed in PDFs (walk sheets, reports).
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
ldconfig -p 2>/dev/null | grep -q 'mod_spatialite\.so' || [ -e /usr/lib/x86_64-linux-gnu/mod_spatialite.so ] \
  || [ -e /usr/lib/aarch64-linux-gnu/mod_spatialite.so ] || missing+=(libsqlite3-mod-spatialite)
if [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null; then missing+=(python3-venv); fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    die "Missing OS packages / 缺少系统软件包: ${missing[*]}. Run as root: apt-get install -y ${missing[*]}"
  fi
  command -v apt-get >/dev/null || die "Install these packages with your package manager / 请安装: ${missing[*]}"
  say "Installing OS packages / 安装系统软件包: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 2. A Python >= 3.10 whose sqlite3 can load extensions (pyenv builds often cannot).
can_load() {
  "$1" - <<'PY' 2>/dev/null
import sqlite3, sys, venv, ensurepip
assert sys.version_info >= (3, 10)
c = sqlite3.connect(":memory:")
c.enable_load_extension(True)
c.load_extension("mod_spatialite")
PY
}
if [ -x "$VENV/bin/python" ] && can_load "$VENV/bin/python"; then
  :
else
  [ -d "$VENV" ] && { say "Existing $VENV cannot load SQLite extensions; recreating it"; rm -rf "$VENV"; }
  PY=""
  for cand in ${PYTHON:-} /usr/bin/python3 /usr/bin/python3.13 /usr/bin/python3.12 /usr/bin/python3.11 /usr/local/bin/python3 python3; do
    p=$(command -v "$cand" 2>/dev/null) || continue
    if can_load "$p"; then PY=$p; break; fi
  done
  [ -n "$PY" ] || die "No Python here can load SQLite extensions (needed by SpatiaLite). Install Debian's Python:
    apt-get install -y python3 python3-venv libsqlite3-mod-spatialite
  or build one with: PYTHON_CONFIGURE_OPTS=--enable-loadable-sqlite-extensions pyenv install 3.11
  then run again (or point PYTHON=/path/to/python3 at it). / 没有能加载 SQLite 扩展的 Python，请按上面的命令安装。"
  say "Creating $VENV with $PY ($("$PY" --version))"
  "$PY" -m venv "$VENV"
fi

# 3. Requirements, only when requirements.txt changed.
stamp="$VENV/.requirements.sha256"
sum=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  say "Installing Python requirements / 安装 Python 依赖"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements.txt
  echo "$sum" > "$stamp"
fi
mkdir -p var

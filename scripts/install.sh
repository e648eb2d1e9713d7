#!/usr/bin/env bash
# Install TAO Desk on a Debian machine: system libraries Qt needs, a virtual environment in .venv,
# and the app itself (editable). With --test, also what the test suite needs: Docker engine, sshd,
# Xvfb, debootstrap and the test Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[ "${1:-}" = "--test" ] && with_tests=1

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"

app_packages=(python3 python3-venv python3-pip libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0
  libxcb-xkb1 libxcb-render-util0 libxcb-image0 libxcb-shape0 libxcb-randr0 libxcb-xfixes0 libxcb-sync1
  libx11-xcb1 libdbus-1-3 libfontconfig1 fonts-dejavu-core libegl1 libgl1 libglx-mesa0 libegl-mesa0 libgl1-mesa-dri)
test_packages=(docker.io cgroupfs-mount openssh-server xvfb xauth debootstrap iproute2 git)

packages=("${app_packages[@]}")
[ "$with_tests" = 1 ] && packages+=("${test_packages[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -q
  $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

python_bin="${TAODESK_PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "$with_tests" = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q -e .
fi
# A desktop entry and icon for the user's application menu.
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/scalable/apps"
mkdir -p "$apps" "$icons"
sed "s#^Exec=.*#Exec=$(pwd)/.venv/bin/taodesk#" packaging/taodesk.desktop > "$apps/taodesk.desktop"
cp packaging/taodesk.svg "$icons/taodesk.svg"
echo "TAO Desk installed in $(pwd)/.venv (run: .venv/bin/taodesk)"

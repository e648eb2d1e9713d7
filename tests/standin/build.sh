#!/usr/bin/env bash
# Build the stand-in TAO image used by the tests: taodesk-standin:<hash> (also tagged :latest).
#
# Two layers, each cached by a hash:
#   1. a Debian bookworm minbase root file system with python3, numpy, PyYAML and h5py, made with
#      debootstrap from the machine's own Debian mirror and imported as taodesk-standin-base:<hash of
#      the package list>; it is only rebuilt when the package list changes;
#   2. a thin `docker build` layer with the stand-in Python sources and the console scripts, tagged by
#      the hash of those sources, so an unchanged tree reuses the image and a changed one rebuilds in
#      seconds.
#
# Prints the image tag as the last line of its output.
# Environment: TAODESK_STANDIN_MIRROR overrides the Debian mirror read from the apt sources,
# TAODESK_STANDIN_CACHE the folder for the debootstrap package cache, logs and the build lock
# (default /var/cache/taodesk-standin as root, ~/.cache/taodesk-standin otherwise). Building the base
# needs root (debootstrap); reusing or rebuilding the thin layer only needs access to Docker.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

image_repo="taodesk-standin"
base_repo="taodesk-standin-base"
suite="bookworm"
packages="python3,python3-numpy,python3-yaml,python3-h5py"
# Bump when the way the base root file system is made or cleaned changes.
base_recipe="1"
if [ -n "${TAODESK_STANDIN_CACHE:-}" ]; then
  cache_dir="$TAODESK_STANDIN_CACHE"
elif [ "$(id -u)" -eq 0 ]; then
  cache_dir="/var/cache/taodesk-standin"
else
  cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/taodesk-standin"
fi

log() { echo "[standin] $*" >&2; }

rootfs=""
trap 'if [ -n "$rootfs" ]; then rm -rf "$rootfs"; fi' EXIT

ensure_docker() {
  docker info >/dev/null 2>&1 && return 0
  log "Docker engine not answering; starting dockerd (log: $cache_dir/dockerd.log)"
  mkdir -p "$cache_dir"
  nohup dockerd >"$cache_dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return 0; sleep 1; done
  log "dockerd did not start:"; tail -20 "$cache_dir/dockerd.log" >&2
  exit 1
}

# The hash of the files that go into the thin layer (relative names and contents).
source_hash() {
  find Dockerfile .dockerignore build.sh bin tao_standin -type f \
      ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 \
    | LC_ALL=C sort -z \
    | xargs -0 sha256sum \
    | sha256sum | cut -c1-12
}

# The first Debian archive URI (not the security archive) for $suite in the machine's apt sources:
# deb822 *.sources files and one-line sources.list / *.list files. Plain POSIX awk (mawk on Debian).
debian_mirror() {
  if [ -n "${TAODESK_STANDIN_MIRROR:-}" ]; then echo "$TAODESK_STANDIN_MIRROR"; return 0; fi
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    case "$f" in
      *.sources) awk -v suite="$suite" "$deb822_awk" "$f" ;;
      *) awk -v suite="$suite" "$one_line_awk" "$f" ;;
    esac
  done | head -1 | sed 's:/*$::'
}

# Prints each URI of a "deb" line whose suite is $suite.
one_line_awk='
  /^[ \t]*#/ { next }
  $1 == "deb" {
    i = 2
    if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
    if ($(i + 1) == suite && $i !~ /security/ && $i ~ /^(https?|file):/) print $i
  }'

# Prints each URI of a deb822 stanza of type "deb" whose suites include $suite.
deb822_awk='
  function flush(   i) {
    if ((" " types " ") ~ / deb / && (" " suites " ") ~ (" " suite " "))
      for (i = 1; i <= nu; i++) if (u[i] !~ /security/ && u[i] ~ /^(https?|file):/) print u[i]
    types = ""; suites = ""; nu = 0
  }
  /^[ \t]*#/ { next }
  /^[ \t]*$/ { flush(); next }
  tolower($1) == "types:" { types = ""; for (i = 2; i <= NF; i++) types = types " " $i }
  tolower($1) == "uris:" { nu = 0; for (i = 2; i <= NF; i++) u[++nu] = $i }
  tolower($1) == "suites:" { suites = ""; for (i = 2; i <= NF; i++) suites = suites " " $i }
  END { flush() }'

build_base() {
  local tag="$1" mirror
  mirror="$(debian_mirror)" || true
  if [ -z "$mirror" ]; then
    log "No Debian '$suite' archive found in /etc/apt/sources.list or /etc/apt/sources.list.d/;"
    log "set TAODESK_STANDIN_MIRROR to a Debian mirror URL."
    exit 1
  fi
  command -v debootstrap >/dev/null || { log "debootstrap is not installed (apt-get install debootstrap)"; exit 1; }
  mkdir -p "$cache_dir/debs"
  rootfs="$(mktemp -d "${TMPDIR:-/tmp}/taodesk-standin-rootfs.XXXXXX")"
  log "debootstrap $suite from $mirror (packages: $packages)"
  debootstrap --variant=minbase --include="$packages" --cache-dir="$cache_dir/debs" \
    "$suite" "$rootfs" "$mirror" >"$cache_dir/debootstrap.log" 2>&1 \
    || { log "debootstrap failed:"; tail -20 "$cache_dir/debootstrap.log" >&2; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/info "$rootfs"/usr/share/locale \
    "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/debootstrap
  log "importing as $tag"
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PYTHONUNBUFFERED=1' --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$tag" >/dev/null
  rm -rf "$rootfs"
  rootfs=""
}

# Keep the two previous source builds (a test run may still use one); untag older ones. Images in use
# by a container are left alone (no --force).
prune_old_tags() {
  local current="$1" old
  docker images "$image_repo" --format '{{.Tag}}' | grep -vx -e latest -e "$current" | tail -n +3 \
    | while read -r old; do docker rmi "$image_repo:$old" >/dev/null 2>&1 || true; done
}

main() {
  ensure_docker
  mkdir -p "$cache_dir"
  # One build at a time on this machine (tests may call this from several processes).
  exec 9>"$cache_dir/build.lock"
  flock 9

  local hash tag base_hash base_tag start
  hash="$(source_hash)"
  tag="$image_repo:$hash"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    docker tag "$tag" "$image_repo:latest"
    log "up to date: $tag"
    echo "$tag"
    return 0
  fi

  start=$SECONDS
  base_hash="$(printf '%s|%s|%s|%s' "$suite" minbase "$packages" "$base_recipe" | sha256sum | cut -c1-12)"
  base_tag="$base_repo:$base_hash"
  if ! docker image inspect "$base_tag" >/dev/null 2>&1; then
    build_base "$base_tag"
    log "base image built in $((SECONDS - start)) s"
  fi

  log "building $tag"
  DOCKER_BUILDKIT=0 docker build --build-arg "BASE=$base_tag" -t "$tag" -t "$image_repo:latest" . \
    >"$cache_dir/docker-build.log" 2>&1 \
    || { log "docker build failed:"; tail -20 "$cache_dir/docker-build.log" >&2; exit 1; }
  log "done in $((SECONDS - start)) s: $tag"
  prune_old_tags "$hash"
  echo "$tag"
}

main "$@"

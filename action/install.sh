#!/usr/bin/env bash
# Installs the shipgate binary for this runner and prints its path as the step output `binary`.
#
# The binary is the release asset for the runner's OS and architecture, used only when its
# SHA-256 matches the checksum file published beside it in the same release. When the release
# has no asset for this runner (or the action is used from a checkout, `uses: ./`), it is
# built from the action's own source with `cargo install --locked`. A checksum that is missing
# or does not match is never worked around: the step fails and nothing is installed.
#
# Environment (set by the runner or action.yml; none is ever evaluated as shell code):
#   SHIPGATE_VERSION           version to install (default: the version in the action's Cargo.toml)
#   SHIPGATE_DOWNLOAD_BASE     where releases are downloaded from (default: the action's
#                              repository on GitHub; a mirror, or file:// in tests)
#   GITHUB_ACTION_PATH, GITHUB_ACTION_REPOSITORY, RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP,
#   GITHUB_OUTPUT, GITHUB_PATH
set -euo pipefail

fail() {
  echo "::error title=shipgate install::$1"
  exit 1
}

action_path="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: run this as the shipgate action}"
source_version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$action_path/Cargo.toml" | head -n 1)
version="${SHIPGATE_VERSION:-$source_version}"
version="${version#v}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]]; then
  fail "version must look like 1.2.3 (an optional v before it); got an invalid value"
fi

case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-gnu archive=tar.gz exe=shipgate ;;
  Linux/ARM64) target=aarch64-unknown-linux-gnu archive=tar.gz exe=shipgate ;;
  macOS/ARM64) target=aarch64-apple-darwin archive=tar.gz exe=shipgate ;;
  Windows/X64) target=x86_64-pc-windows-msvc archive=zip exe=shipgate.exe ;;
  *) target="" archive="" exe=shipgate ;;
esac

root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/shipgate-$version"
bin_dir="$root/bin"
binary="$bin_dir/$exe"

publish() {
  echo "shipgate $version: $binary"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "binary=$binary" >>"$GITHUB_OUTPUT"; fi
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$bin_dir" >>"$GITHUB_PATH"; fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  else
    shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}

build_from_source() {
  if [ "$version" != "$source_version" ]; then
    fail "$1, and this action's source is shipgate $source_version, not $version: use a version that has release binaries, or leave the version input empty"
  fi
  echo "::notice title=shipgate install::$1; building shipgate $version from the action's source with cargo install --locked"
  command -v cargo >/dev/null 2>&1 || fail "cargo is not installed on this runner; install a Rust toolchain before this step, or use a release that has a binary for ${RUNNER_OS:-this OS}/${RUNNER_ARCH:-this architecture}"
  cargo install --locked --quiet --path "$action_path" --root "$root" --bin shipgate
  [ -x "$binary" ] || fail "cargo install finished but $binary is missing"
  publish
}

if [ -x "$binary" ]; then
  publish
  exit 0
fi
if [ -z "$target" ]; then
  build_from_source "no prebuilt binary is published for ${RUNNER_OS:-an unknown OS}/${RUNNER_ARCH:-an unknown architecture}"
  exit 0
fi
if [ -n "${SHIPGATE_DOWNLOAD_BASE:-}" ]; then
  base="${SHIPGATE_DOWNLOAD_BASE%/}"
  protocols="=https,file"
elif [ -n "${GITHUB_ACTION_REPOSITORY:-}" ]; then
  base="https://github.com/$GITHUB_ACTION_REPOSITORY/releases/download"
  protocols="=https"
else
  build_from_source "the action runs from a checkout (uses: ./), which has no release to download"
  exit 0
fi

asset="shipgate-v$version-$target.$archive"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
download() {
  curl --fail --silent --show-error --location --proto "$protocols" --retry 3 --output "$2" "$1"
}
if ! download "$base/v$version/$asset" "$work/$asset" 2>"$work/curl.log"; then
  build_from_source "release v$version has no asset $asset ($(head -n 1 "$work/curl.log"))"
  exit 0
fi
if ! download "$base/v$version/$asset.sha256" "$work/$asset.sha256" 2>"$work/curl.log"; then
  fail "release v$version publishes $asset but not its checksum $asset.sha256; refusing to run an unverified binary"
fi
expected=$(tr -d '\r' <"$work/$asset.sha256" | head -n 1 | cut -d ' ' -f 1 | tr '[:upper:]' '[:lower:]')
if ! [[ "$expected" =~ ^[0-9a-f]{64}$ ]]; then
  fail "$asset.sha256 does not hold a SHA-256; refusing to run an unverified binary"
fi
actual=$(sha256_of "$work/$asset")
if [ "$actual" != "$expected" ]; then
  fail "checksum mismatch for $asset: the release publishes $expected but the download hashes to $actual; refusing to run it"
fi

mkdir -p "$work/unpacked" "$bin_dir"
case "$archive" in
  tar.gz) tar -xzf "$work/$asset" -C "$work/unpacked" ;;
  zip) unzip -q "$work/$asset" -d "$work/unpacked" ;;
esac
unpacked=$(find "$work/unpacked" -type f -name "$exe" | head -n 1)
[ -n "$unpacked" ] || fail "$asset holds no $exe"
install -m 0755 "$unpacked" "$binary"
publish

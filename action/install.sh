#!/usr/bin/env bash
# Installs the shipgate binary for this runner and prints its path as the step output `binary`.
#
# The binary is the release asset for the runner's OS and architecture, used only when its
# SHA-256 equals the digest committed in this action's own source, action/checksums/v<version>.sha256
# (written by the release workflow; DESIGN 13.9). A checksum published in the release itself
# is never consulted: whoever can replace an asset can replace the file beside it. When this
# source commits no digest for the runner, the step fails: a job that holds a key never
# compiles anything. Building from source is an explicit opt-in (SHIPGATE_BUILD_FROM_SOURCE),
# run outside the workspace with the toolchain and cargo configuration pinned, so files checked
# out into the workspace cannot choose a toolchain or a rustc wrapper.
#
# Environment (set by the runner or action.yml; none is ever evaluated as shell code):
#   SHIPGATE_VERSION            version to install (default: the version in the action's Cargo.toml)
#   SHIPGATE_DOWNLOAD_BASE      where releases are downloaded from (default:
#                               $GITHUB_SERVER_URL/<the action's repository>/releases/download)
#   SHIPGATE_BUILD_FROM_SOURCE  `true`: build the action's source with cargo instead
#   GITHUB_ACTION_REPOSITORY    the action's repository (action.yml passes github.action_repository;
#                               empty when the action runs from a checkout, `uses: ./`, whose
#                               repository is then the workflow's, GITHUB_REPOSITORY)
#   GITHUB_ACTION_PATH, GITHUB_SERVER_URL, GITHUB_REPOSITORY, RUNNER_OS, RUNNER_ARCH,
#   RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_PATH
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

# Linux binaries are statically linked (musl), so the runner's glibc does not matter.
case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-musl archive=tar.gz exe=shipgate ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl archive=tar.gz exe=shipgate ;;
  macOS/ARM64) target=aarch64-apple-darwin archive=tar.gz exe=shipgate ;;
  Windows/X64) target=x86_64-pc-windows-msvc archive=zip exe=shipgate.exe ;;
  *) target="" archive="" exe=shipgate ;;
esac

scratch_root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
root="$scratch_root/shipgate-$version"
bin_dir="$root/bin"
binary="$bin_dir/$exe"

# Runs the installed binary once, so a binary that cannot start on this runner fails here.
publish() {
  reported=$("$binary" --version) || fail "the installed $binary does not run on this runner"
  [ "$reported" = "shipgate $version" ] || fail "the installed binary reports \"$reported\", not shipgate $version"
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

# The opt-in build: the current directory is a fresh directory outside the workspace (rustup
# reads rust-toolchain.toml, cargo reads .cargo/config.toml, from the current directory and
# every directory above it), the toolchain is named, and no wrapper reaches cargo.
build_from_source() {
  if [ "$version" != "$source_version" ]; then
    fail "build-from-source builds this action's source, shipgate $source_version, not $version: leave the version input empty"
  fi
  command -v cargo >/dev/null 2>&1 || fail "build-from-source needs cargo on this runner; install a Rust toolchain before this step"
  echo "::notice title=shipgate install::building shipgate $version from the action's source with cargo install --locked (build-from-source)"
  build_dir=$(mktemp -d "$scratch_root/shipgate-build.XXXXXX")
  (
    cd "$build_dir"
    env -u RUSTC -u RUSTC_WRAPPER -u RUSTC_WORKSPACE_WRAPPER -u RUSTFLAGS \
      -u CARGO_BUILD_RUSTC -u CARGO_BUILD_RUSTC_WRAPPER -u CARGO_BUILD_RUSTFLAGS \
      -u CARGO_ENCODED_RUSTFLAGS -u CARGO_TARGET_DIR \
      RUSTUP_TOOLCHAIN=stable CARGO_TARGET_DIR="$build_dir/target" \
      cargo install --locked --quiet --path "$action_path" --root "$root" --bin shipgate
  )
  [ -x "$binary" ] || fail "cargo install finished but $binary is missing"
  publish
}

if [ "${SHIPGATE_BUILD_FROM_SOURCE:-false}" = true ]; then
  build_from_source
  exit 0
fi

checksums="$action_path/action/checksums/v$version.sha256"
no_binary="no verified shipgate $version binary exists for ${RUNNER_OS:-an unknown OS}/${RUNNER_ARCH:-an unknown architecture}"
how_to_fix="use the action at a release (uses: <owner>/shipgate@<release commit>), whose source commits the binaries' SHA-256 in action/checksums/, or set the version input to a version listed there; building on the runner is the separate opt-in input build-from-source, never for a job that holds a key"
[ -n "$target" ] || fail "$no_binary: shipgate publishes binaries for Linux X64/ARM64, macOS ARM64 and Windows X64; $how_to_fix"
asset="shipgate-v$version-$target.$archive"
[ -f "$checksums" ] || fail "$no_binary: this action's source has no action/checksums/v$version.sha256; $how_to_fix"
expected=$(tr -d '\r' <"$checksums" | awk -v asset="$asset" '$2 == asset || $2 == "*" asset { print tolower($1); exit }')
if ! [[ "$expected" =~ ^[0-9a-f]{64}$ ]]; then
  fail "$no_binary: action/checksums/v$version.sha256 holds no SHA-256 for $asset; $how_to_fix"
fi

if [ -n "${SHIPGATE_DOWNLOAD_BASE:-}" ]; then
  base="${SHIPGATE_DOWNLOAD_BASE%/}"
else
  repository="${GITHUB_ACTION_REPOSITORY:-${GITHUB_REPOSITORY:-}}"
  [ -n "$repository" ] || fail "cannot tell where to download shipgate from: neither GITHUB_ACTION_REPOSITORY nor GITHUB_REPOSITORY is set"
  base="${GITHUB_SERVER_URL:-https://github.com}/$repository/releases/download"
fi

work=$(mktemp -d "$scratch_root/shipgate-download.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! curl --fail --silent --show-error --location --proto '=https,file' --retry 3 \
  --output "$work/$asset" "$base/v$version/$asset" 2>"$work/curl.log"; then
  fail "cannot download $asset from $base/v$version ($(head -n 1 "$work/curl.log")); nothing was installed"
fi
actual=$(sha256_of "$work/$asset")
if [ "$actual" != "$expected" ]; then
  fail "checksum mismatch for $asset: this action's source commits $expected but the download hashes to $actual; refusing to run it"
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

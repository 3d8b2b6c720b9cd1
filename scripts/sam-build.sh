#!/usr/bin/env bash
# `make build`: the Lambda artifacts with AWS SAM (`sam build`), offline.
#
# template.yaml builds every function with BuildMethod rust-cargolambda (provided.al2023,
# arm64, CodeUri at the workspace root): for each function SAM runs
#   cargo lambda build --release --arm64 --bin <Binary>
# in the workspace root and copies $CARGO_TARGET_DIR/lambda/<Binary>/bootstrap to
# .aws-sam/build/<LogicalId>/. cargo-lambda cross-compiles with zig (the ziglang wheel).
#
# Tools, installed on first use (the only step that needs the network):
#   .venv-sam/   aws-sam-cli, cargo-lambda and ziglang, pinned in scripts/requirements-sam.txt
# Needs: cargo with the aarch64-unknown-linux-gnu target installed (checked, never
# downloaded), the crates in the cargo cache (`cargo fetch` once), python3.
#
# Usage: scripts/sam-build.sh [extra sam build args]
#   CARGO_TARGET_DIR   default $HOME/.cache/p2p-target-lambda (outside the tree, see below)
#   SAM_BUILD_CACHED=1 keep samconfig's `cached = true` (default here: --no-cached, see below)
#   NO_PREBUILD=1      skip the one-invocation prebuild and let SAM build each function
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# shellcheck source=scripts/sam-venv.sh
. "$ROOT/scripts/sam-venv.sh"
TARGET_TRIPLE="aarch64-unknown-linux-gnu"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'sam-build: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk "BEGIN{printf \"%.1f\", $(now) - $1}"; }

# --- tools -------------------------------------------------------------------------
ensure_sam_venv

# cargo-lambda finds zig as `python3 -m ziglang` when the venv's python3 is first on PATH.
export PATH="$VENV/bin:$PATH"
command -v cargo >/dev/null || die "cargo not found"
command -v cargo-lambda >/dev/null || die "cargo-lambda not found in $VENV/bin"
python3 -c 'import ziglang' 2>/dev/null || die "the ziglang wheel is missing from $VENV"

# No toolchain downloads: the cross target must already be there.
if command -v rustup >/dev/null; then
    rustup target list --installed 2>/dev/null | grep -qx "$TARGET_TRIPLE" \
        || die "rust target $TARGET_TRIPLE is not installed (rustup target add $TARGET_TRIPLE, once, online)"
fi

# --- environment ---------------------------------------------------------------------
# Outside the tree: SAM's CodeUri is the workspace root, and a target/ inside it would be
# part of every function's "source". aws-lambda-builders keeps an explicit CARGO_TARGET_DIR
# and copies the bootstrap from the same directory (cargo metadata's target_directory).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/p2p-target-lambda}"
# Offline: crates come from the local cargo cache only.
export CARGO_NET_OFFLINE=true
export SAM_CLI_TELEMETRY=0
# sam build needs no AWS account; a region keeps it from asking.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_REGION="${AWS_REGION:-$AWS_DEFAULT_REGION}"

# The functions, from template.yaml's BuildProperties (Binary: <bin>).
mapfile -t BINARIES < <(sed -nE 's/^[[:space:]]+Binary:[[:space:]]*([A-Za-z0-9_-]+)[[:space:]]*$/\1/p' template.yaml)
[[ ${#BINARIES[@]} -gt 0 ]] || die "no BuildProperties Binary entries in template.yaml"

# --- prebuild --------------------------------------------------------------------------
# SAM runs one `cargo lambda build --bin X` per function. Run as 8 separate cargo
# invocations (and with --parallel, 8 processes queueing on the target-dir lock) each
# release LTO link runs alone. One invocation with every --bin lets cargo link them side by
# side on all cores; SAM's per-function invocations then find everything fresh. Same
# command, flags and environment, so the fingerprints match.
start_all="$(now)"
if [[ -z "${NO_PREBUILD:-}" ]]; then
    bins=()
    for b in "${BINARIES[@]}"; do bins+=(--bin "$b"); done
    log "cargo lambda build --release --arm64 ${bins[*]}   (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    t="$(now)"
    cargo lambda build --release --arm64 "${bins[@]}"
    log "prebuild: $(since "$t") s"
fi

# --- sam build -------------------------------------------------------------------------
# samconfig.toml asks for cached + parallel builds. SAM's cache key is a hash of the whole
# CodeUri directory (the workspace root with its venvs, >1 GB here), computed once per
# function; cargo's own fingerprints already make an unchanged build a no-op, so by default
# this script turns SAM's cache off (SAM_BUILD_CACHED=1 keeps it).
sam_args=()
[[ -z "${SAM_BUILD_CACHED:-}" ]] && sam_args+=(--no-cached)
log "sam build ${sam_args[*]} $*"
t="$(now)"
sam build "${sam_args[@]}" "$@"
log "sam build: $(since "$t") s (total $(since "$start_all") s)"

# --- artifacts ---------------------------------------------------------------------------
# Size of each bootstrap and of the zip SAM uploads (zipfile, ZIP_DEFLATED, as
# `sam package`/`sam deploy` make it).
python3 - "$ROOT/.aws-sam/build" <<'PY'
import io, os, sys, zipfile

build = sys.argv[1]
rows = []
for name in sorted(os.listdir(build)):
    path = os.path.join(build, name, "bootstrap")
    if not os.path.isfile(path):
        continue
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o100755 << 16
        with open(path, "rb") as fh:
            zf.writestr(info, fh.read(), compress_type=zipfile.ZIP_DEFLATED)
    rows.append((name, os.path.getsize(path), len(buf.getvalue())))
if not rows:
    sys.exit("no .aws-sam/build/*/bootstrap artifacts")
print(f"{'function':<28} {'bootstrap MB':>12} {'zip MB':>8}")
for name, raw, z in rows:
    print(f"{name:<28} {raw / 2**20:>12.2f} {z / 2**20:>8.2f}")
PY

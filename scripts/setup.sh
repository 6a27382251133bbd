#!/usr/bin/env bash
# One set-up for every entry point (npm test, npm run demo): Debian packages, npm packages, native addon, build.
# Each step is skipped when its result is already there, so running it again is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."

need_debs=()
# Debian packages: the training engine (libtorch), the reference tools that tests use as judges, chromium for the viewer tests.
for pkg in libtorch-dev python3-torch plastimatch dicom3tools dcmtk libgdcm-tools python3-numpy python3-scipy python3-nibabel python3-pydicom chromium; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_debs+=("$pkg")
done
if [ ${#need_debs[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_debs[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_debs[@]}" >/dev/null
fi

# npm packages; onnxruntime-node's install step would try to download CUDA files: its CPU binaries are bundled.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Native addon (libtorch glue, native/): rebuilt when a source is newer than the built addon or LIBTORCH_DIR changed.
addon=native/build/Release/nodal_torch.node
stamp=native/build/libtorch-dir.txt
if [ ! -f "$addon" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${LIBTORCH_DIR:-debian}" ] \
   || [ -n "$(find native/src native/binding.gyp native/libtorch.cjs -newer "$addon" 2>/dev/null)" ]; then
  echo "setup: building the libtorch addon (${LIBTORCH_DIR:-Debian libtorch-dev})"
  (cd native && npx --no-install node-gyp rebuild -j max --loglevel=warn)
  echo "${LIBTORCH_DIR:-debian}" > "$stamp"
fi

echo "setup: compiling TypeScript"
npm run build --silent
chmod +x dist/src/cli/main.js

#!/usr/bin/env bash
# Creates .venv/ in the repo root with everything: runtime deps, bpy 5.0 (Blender as a module), test tools,
# and the older Blenders the tests also run on: bpy 4.5 LTS in .venv/bpy45 and bpy 4.2 LTS (the manifest's
# blender_version_min) in .venv/bpy42 (tests/test_blender45.py, tests/test_build.py).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# One pip command: bpy pins numpy<2 and must be resolved together with the rest.
.venv/bin/pip install --disable-pip-version-check -q -r requirements.txt
[ -d .venv/bpy45/bpy ] || .venv/bin/pip install --disable-pip-version-check -q --no-deps --target .venv/bpy45 bpy==4.5.4
[ -d .venv/bpy42/bpy ] || .venv/bin/pip install --disable-pip-version-check -q --no-deps --target .venv/bpy42 bpy==4.2.0
# Anny builds its model cache (~0.8 GB in ~/.cache/anny, ~45 s) on first use: do it here, not in a test.
.venv/bin/python -c "import os; os.environ.setdefault('WARP_LOG_LEVEL', 'error'); import anny; anny.Anny(skinning_method='lbs')" >/dev/null 2>&1 || echo "warning: could not build the anny model cache"
.venv/bin/python -c "import bpy, torch, mediapipe, cv2, onnxruntime; print('ok: bpy', bpy.app.version_string, '| torch', torch.__version__, '| mediapipe', mediapipe.__version__, '| onnxruntime', onnxruntime.__version__)"

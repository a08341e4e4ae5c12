#!/usr/bin/env bash
# Creates .venv/ in the repo root with everything: runtime deps, bpy 5.0 (Blender as a module), test tools,
# and bpy 4.5 LTS in .venv/bpy45 (used by the tests that check Blender 4.5 compatibility).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# One pip command: bpy pins numpy<2 and must be resolved together with the rest.
.venv/bin/pip install --disable-pip-version-check -q -r requirements.txt
[ -d .venv/bpy45/bpy ] || .venv/bin/pip install --disable-pip-version-check -q --no-deps --target .venv/bpy45 bpy==4.5.4
.venv/bin/python -c "import bpy, torch, mediapipe, cv2, onnxruntime; print('ok: bpy', bpy.app.version_string, '| torch', torch.__version__, '| mediapipe', mediapipe.__version__)"

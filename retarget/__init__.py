"""Joints [T, 17, 3] -> armature animation: coordinates, root motion, smoothing, foot contact, bone rotations.

Pure numpy (Blender bundles numpy, not scipy: filters.py and interp.py stand in for the scipy calls).
The only module that touches Blender is `retarget.bpy_keys` (imported explicitly).
"""

"""Joints [T, 17, 3] -> armature animation: coordinates, root motion, smoothing, foot contact, bone rotations.

Pure numpy/scipy. The only module that touches Blender is `retarget.bpy_keys` (imported explicitly).
"""

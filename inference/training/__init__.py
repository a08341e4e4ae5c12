"""Training and evaluation of the lifter: never shipped in the extension zip, never imported by the add-on.

data.py            mocap clips (17 joints), repair, resampling, the fixed train/val split
cameras.py         virtual cameras (focal, height, distance, aspect) that keep the body in frame
noise.py           detector-like 2D: landmark offsets, jitter, outliers, swaps, misses
synth.py           training batches: clip windows -> camera -> 2D -> key-frame masks
train.py           `python -m inference train`: AdamW + EMA, checkpoints, resume, export
metrics.py         MPJPE, N-/P-MPJPE, velocity / acceleration error, bone-length std
evaluate.py        `python -m inference evaluate`: the val split at every stride
evaluate_video.py  `python -m inference evaluate-video`: real clips, ours vs MediaPipe's own 3D
"""

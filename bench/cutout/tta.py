"""Test-time augmentation for U²-Net-p, measured on the raw model (no refinement) with
onnxruntime: mean IoU (mask >= 0.5) and MAE over a folder of photos with human masks, for the
plain 320² map, its average with the mirrored photo's map, and other input sizes.

A research tool (it is not part of the app): onnxruntime runs any input size, tract's plan and
Shotline's engine are built for 320². Pre- and post-processing as `shotline eval --method model`
(area resize, divide by the maximum, ImageNet normalisation; min-max, bilinear back).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install onnx onnxruntime numpy pillow
    /tmp/venv/bin/python bench/cutout/tta.py models/u2netp.onnx /work/shared/eval/ecssd-dev
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def session(path):
    """The model with its input height and width made free, on one thread."""
    m = onnx.load(path)
    for i in m.graph.input:
        dims = i.type.tensor_type.shape.dim
        dims[2].dim_param, dims[3].dim_param = "h", "w"
    for o in m.graph.output:
        for k in (2, 3):
            o.type.tensor_type.shape.dim[k].dim_param = f"o{k}"
    del m.graph.value_info[:]
    so = ort.SessionOptions()
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    return ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])


def min_max(p):
    return (p - p.min()) / max(p.max() - p.min(), 1e-12)


def resize(p, w, h):
    return np.asarray(Image.fromarray(p.astype(np.float32), mode="F").resize((w, h), Image.BILINEAR))


def predict(s, img, side, flip=False):
    if flip:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    a = np.asarray(img.resize((side, side), Image.BOX), np.float32) / 255.0
    a = (a / max(a.max(), 1e-6) - MEAN) / STD
    out = s.run(None, {s.get_inputs()[0].name: a.transpose(2, 0, 1)[None].astype(np.float32)})[0][0, 0]
    p = resize(min_max(out), 320, 320)
    return p[:, ::-1] if flip else p


def main(model, folder):
    s = session(model)
    variants = {
        "320": [(320, False)],
        "320 + mirrored": [(320, False), (320, True)],
        "256": [(256, False)],
        "256 + mirrored": [(256, False), (256, True)],
        "384 + mirrored": [(384, False), (384, True)],
        "256, 320, 384, each + mirrored": [(z, f) for z in (256, 320, 384) for f in (False, True)],
    }
    scores = {k: [] for k in variants}
    for name in sorted(os.listdir(os.path.join(folder, "images"))):
        img = Image.open(os.path.join(folder, "images", name)).convert("RGB")
        mask = Image.open(os.path.join(folder, "masks", os.path.splitext(name)[0] + ".png")).convert("L")
        gt = np.asarray(mask, np.float32) / 255.0 >= 0.5
        maps = {}
        for k, runs in variants.items():
            for r in runs:
                if r not in maps:
                    maps[r] = predict(s, img, *r)
            p = resize(sum(maps[r] for r in runs) / len(runs), *img.size)
            pred = p >= 0.5
            iou = (pred & gt).sum() / max((pred | gt).sum(), 1)
            scores[k].append((iou, np.abs(p - gt).mean()))
    for k, v in scores.items():
        v = np.array(v)
        print(f"{k:34s} IoU {v[:, 0].mean():.4f}  MAE {v[:, 1].mean():.4f}  ({len(v)} photos)")


if __name__ == "__main__":
    main(*sys.argv[1:3])

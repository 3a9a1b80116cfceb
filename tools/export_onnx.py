"""Export a Siamese tracker's networks to ONNX files and check them against torch.

Writes ``<out>/<tracker>.backbone.<size>.onnx`` for the exemplar and the search crop size and, for a tracker
with a (non-steerable) canonicalizer, ``<out>/<tracker>.canonicalizer_trunk.<size>.onnx``: float32 input
``x`` (``N x 3 x H x W``, RGB 0..255, any batch), output ``y``. Each file is run in ONNX Runtime on crops of
a real photo and compared with torch; the tool prints the largest difference and exits 1 when one exceeds
1e-4 of the features' largest magnitude. Needs the ``[onnx]`` extra (onnxruntime, onnx).

Trackers with ``backend: onnx`` (or ``auto`` where ONNX Runtime is installed) export the same graphs
themselves when built, so these files are for running the networks elsewhere and for inspection.

    python tools/export_onnx.py --tracker canon_siamfc --out exported/
"""
import argparse
from pathlib import Path

import numpy as np
import torch

from ientrack import build_tracker
from ientrack.cli import tool_main
from ientrack.equivariance.canonicalize import Canonicalizer
from ientrack.eval.speed import synthetic_clip
from ientrack.models.onnx_runtime import export_graph, resolve_backend, runtime_session

TOLERANCE = 1e-4


def networks(tracker):
    """``(file stem, module, example input)`` of each network the tracker runs per frame, on a real photo."""
    frames, boxes = synthetic_clip(2)
    tracker.init(frames[0], boxes[0])
    with torch.inference_mode():
        for size, extent in ((tracker.exemplar_size, tracker.base_z), (tracker.instance_size, tracker.base_x)):
            crops = tracker._patches(frames[1], extent * tracker.scales, 0.0, size).contiguous()
            yield f"{tracker.name}.backbone.{size}", tracker.backbone, crops
        canonicalizer = getattr(tracker, "canonicalizer", None)
        if isinstance(canonicalizer, Canonicalizer):
            patch = tracker._patches(frames[1], tracker.base_z, 0.0, tracker.exemplar_size)
            copies = canonicalizer.copies(patch).flatten(0, 1).contiguous()
            yield f"{tracker.name}.canonicalizer_trunk.{canonicalizer.size}", canonicalizer.trunk, copies


@tool_main()
def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracker", required=True, help="a tracker name from the zoo (ientrack/zoo), or a config path")
    parser.add_argument("--out", required=True, help="folder for the .onnx files")
    args = parser.parse_args()
    resolve_backend("onnx", torch.device("cpu"))  # ONNX Runtime installed, or one line saying how
    tracker = build_tracker(args.tracker, device="cpu", backend="torch")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    worst = 0.0
    for stem, module, x in networks(tracker):
        graph = export_graph(module, tuple(x.shape[1:]))
        path = out / f"{stem}.onnx"
        path.write_bytes(graph)
        with torch.inference_mode():
            expected = module(x).numpy()
        (got,) = runtime_session(graph, torch.get_num_threads()).run(None, {"x": x.numpy()})
        difference = float(np.abs(got - expected).max()) / max(1.0, float(np.abs(expected).max()))
        worst = max(worst, difference)
        print(f"{path}: input {tuple(x.shape)}, output {got.shape}, largest difference to torch "
              f"{difference:.2e} of the largest feature")
    if worst > TOLERANCE:
        raise SystemExit(f"ONNX Runtime differs from torch by {worst:.2e} > {TOLERANCE:g}")


if __name__ == "__main__":
    main()

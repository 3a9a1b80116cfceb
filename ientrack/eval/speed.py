"""Speed of trackers on the same frames, and how close a Siamese step runs to this machine's compute limit
(the library side of ``tools/benchmark.py``; its docstring says what is measured and how)."""
import inspect
import os
import platform
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
from skimage import data
from tqdm import tqdm

from ientrack import build_tracker
from ientrack.device import resolve_device
from ientrack.eval.stage_timing import STAGES, stage_summary, staged_update
from ientrack.models.onnx_runtime import OnnxRuntimeModule, torch_module
from ientrack.trackers.registry import accepted_settings, load_config, tracker_class


def synthetic_clip(num_frames: int, size=(480, 360)):
    """A camera panning over the astronaut: frames (RGB uint8) and the box of her face in each."""
    image = cv2.resize(data.astronaut(), (768, 768), interpolation=cv2.INTER_AREA)
    frames, boxes = [], []
    for t in range(num_frames):
        dx, dy = 100 + 3.0 * t, 20 + 10 * np.sin(t / 5.0)
        m = np.float32([[1, 0, -dx], [0, 1, -dy]])
        frames.append(cv2.warpAffine(image, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101))
        boxes.append((260 - dx, 60 - dy, 140, 170))
    return frames, np.array(boxes)


def conv_flops(module: nn.Module, inputs: torch.Tensor) -> int:
    """FLOPs (2 x multiply-adds) of every ``Conv2d`` in one forward pass of ``module`` on ``inputs``."""
    total = [0]

    def count(conv, args, out):
        total[0] += 2 * out.numel() * (conv.in_channels // conv.groups) * conv.kernel_size[0] * conv.kernel_size[1]

    hooks = [m.register_forward_hook(count) for m in module.modules() if isinstance(m, nn.Conv2d)]
    with torch.inference_mode():
        module(inputs)
    for h in hooks:
        h.remove()
    return total[0]


CLOCKS = {"wall": time.perf_counter, "thread": time.thread_time}  # thread: CPU time of this thread, see benchmark()


def timer(fn, device: torch.device, now=time.perf_counter):
    """A callable that runs ``fn`` once (inference mode, synchronised on CUDA) and returns its seconds by
    the clock ``now``."""

    def run():
        start = now()
        with torch.inference_mode():
            fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return now() - start

    return run


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's model and core count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = next((line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), platform.processor())
    return f"{model or 'CPU'}, {os.cpu_count()} cores"


def _cpuinfo() -> list:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return f.read().splitlines()
    except OSError:
        return []


def conv_probe(device: torch.device, now=time.perf_counter):
    """FLOPs and timer of the reference conv: 3x3, 256 -> 256, on 8 x 256 x 32 x 32, channels-last, float32."""
    conv = nn.Conv2d(256, 256, 3, padding=1, bias=False).to(device, memory_format=torch.channels_last).eval()
    x = torch.randn(8, 256, 32, 32, device=device).contiguous(memory_format=torch.channels_last)
    return conv_flops(conv, x), timer(lambda: conv(x), device, now)


def build(name: str, device: str, random_weights: bool, **overrides):
    """The tracker, or ``(None, reason)`` when it cannot be built here."""
    overrides["device"] = device
    try:
        cls = tracker_class(load_config(name)["type"])
        if random_weights and "allow_random_weights" in inspect.signature(cls).parameters:
            overrides["allow_random_weights"] = True
        return build_tracker(name, **overrides), None
    except (FileNotFoundError, ImportError, RuntimeError, ValueError) as e:
        return None, str(e).splitlines()[0]


def variants(names, reference: str, backends=None):
    """``(label, name, overrides)`` of every tracker to time: one per tracker, or with ``backends`` one per
    backend for each tracker that takes a ``backend`` setting (labelled ``name (backend)``), except
    ``reference``, which is always timed as configured (it is the unit of the speed column)."""
    rows = []
    for name in names:
        if backends and name != reference and _takes_backend(name):
            rows += [(f"{name} ({b})" if len(backends) > 1 else name, name, {"backend": b}) for b in backends]
        else:
            rows.append((name, name, {}))
    return rows


def _takes_backend(name: str) -> bool:
    try:
        return "backend" in accepted_settings(tracker_class(load_config(name)["type"]))
    except ValueError:  # not a tracker: build() reports why
        return False


def siamese_probes(tracker, frame, now=time.perf_counter):
    """Backbone FLOPs of one frame (its search crops), correlation FLOPs, and timers of the backbone step
    alone and of the whole ``update``."""
    x = tracker._patches(frame, tracker.search_sides(), 0.0, tracker.instance_size)
    x = x.contiguous(memory_format=torch.channels_last)
    flops = conv_flops(torch_module(tracker.backbone), x)
    with torch.inference_mode():
        side = tracker.backbone(x).shape[-1] - tracker.bank.shape[-1] + 1
    searched = len(tracker._candidate_rotations())
    corr = 2 * len(tracker.scales) * searched * tracker.bank[0].numel() * side ** 2
    return (flops, corr, timer(lambda: tracker.backbone(x), tracker.device, now),
            timer(lambda: tracker.update(frame), tracker.device, now))


def paired_shares(conv, step, update, flops: float, conv_flop: float, repeats: int) -> dict:
    """Conv, backbone step and update timed back to back ``repeats`` times (after a warm-up), so that
    load from other processes hits all three alike; shares of the conv's FLOP/s are medians over rounds."""
    times = interleaved({"conv": conv, "step": step, "update": update}, repeats)
    t_conv, t_step, t_update = (np.array(times[k]) for k in ("conv", "step", "update"))
    rate_conv = conv_flop / t_conv
    return {
        "backbone_step_ms": 1e3 * float(t_step.min()),
        "backbone_share_of_peak": float(np.median(flops[0] / t_step / rate_conv)),
        "update_share_of_peak": float(np.median(flops[1] / t_update / rate_conv)),
        "paired_conv_gflops": float(np.median(rate_conv)) / 1e9,
    }


def interleaved(runs: dict, rounds: int) -> dict:
    """Every callable of ``runs`` called once per round, one after another, so that load from other
    processes hits all alike; a warm-up round, then ``rounds`` rounds: ``{name: [result per round]}``."""
    results = [{name: run() for name, run in runs.items()} for _ in range(rounds + 1)][1:]
    return {name: [r[name] for r in results] for name in runs}


def paired_speed(updates: dict, reference: str, rounds: int) -> dict:
    """Each tracker's speed relative to ``reference``'s (> 1: faster): every round times one ``update`` of
    every tracker back to back (:func:`interleaved`); median over rounds of the per-round ratios."""
    times = {name: np.array(t) for name, t in interleaved(updates, rounds).items()}
    return {name: float(np.median(times[reference] / times[name])) for name in updates}


def benchmark(names, device: str, num_frames: int, repeats: int, random_weights: bool, backends=None,
              clock: str = "wall") -> dict:
    """Every tracker on the same clip, for Siamese trackers their paired share of the conv's FLOP/s and
    their time per stage (:mod:`ientrack.eval.stage_timing`, interleaved rounds), and every tracker's
    paired speed relative to ``siamfc`` (or the first tracker when siamfc is not run). ``backends``: time
    the trackers that take one under each of these backends (see :func:`variants`). ``clock``: ``wall``
    time, or ``thread``: the CPU time of this thread, which other processes' load barely moves; it counts
    all the work only when torch (and so ONNX Runtime) runs on 1 thread, so it needs that."""
    if clock == "thread" and torch.get_num_threads() != 1:
        raise ValueError("clock thread counts this thread's CPU time alone: run torch on 1 thread (--threads 1)")
    now = CLOCKS[clock]
    frames, boxes = synthetic_clip(num_frames)
    torch_device = resolve_device(device)
    conv_flop, conv = conv_probe(torch_device, now)
    conv()  # warm-up
    reference = "siamfc" if "siamfc" in names else names[0]
    report = {"device": str(torch_device), "device_name": device_name(torch_device),
              "threads": torch.get_num_threads(), "clock": clock, "frames": num_frames, "load_average_before": os.getloadavg()[0],
              "trackers": {}, "skipped": {}}
    updates, staged = {}, {}
    for label, name, overrides in tqdm(variants(names, reference, backends), desc="trackers"):
        tracker, reason = build(name, device, random_weights, **overrides)
        if tracker is None:
            report["skipped"][label] = reason
            continue
        _, times = tracker.track(frames, boxes[0])
        row = {"fps": len(frames) / times.sum(), "update_median_ms": 1e3 * float(np.median(times[1:])),
               "update_best_ms": 1e3 * float(np.min(times[1:]))}  # median and best of the same updates
        if hasattr(tracker, "backbone"):
            row["backend"] = "onnx" if isinstance(tracker.backbone, OnnxRuntimeModule) else "torch"
            flops, corr, step, update = siamese_probes(tracker, frames[-1], now)
            row.update({"backbone_gflop_per_frame": flops / 1e9, "correlation_gflop_per_frame": corr / 1e9})
            row.update(paired_shares(conv, step, update, (flops, flops + corr), conv_flop, repeats))
            staged[label] = lambda t=tracker: staged_update(t, frames[-1], now)
        report["trackers"][label] = row
        updates[label] = timer(lambda t=tracker: t.update(frames[-1]), torch_device, now)
    if updates:
        report["speed_reference"] = reference if reference in updates else next(iter(updates))
        for label, ratio in paired_speed(updates, report["speed_reference"], 3 * repeats).items():
            report["trackers"][label]["speed_vs_reference"] = ratio
    with torch.inference_mode():
        for label, results in interleaved(staged, 2 * repeats).items():
            report["trackers"][label].update(stage_summary(results))
    report["conv_peak_gflops"] = conv_flop / min(conv() for _ in range(repeats)) / 1e9
    report["load_average_after"] = os.getloadavg()[0]
    return report


def markdown(report: dict) -> str:
    """The report as two markdown tables: speed and compute share per tracker, then time per stage."""
    cols = ["fps", "speed_vs_reference", "update_median_ms", "update_best_ms", "backbone_gflop_per_frame", "backbone_step_ms",
            "paired_conv_gflops", "backbone_share_of_peak", "update_share_of_peak"]
    lines = [f"device {report['device']} ({report.get('device_name', '?')}), {report['threads']} threads, "
             f"{report['clock']} clock, {report['frames']} frames, "
             f"load average {report['load_average_before']:.1f} before / {report['load_average_after']:.1f} after; "
             f"reference conv best {report['conv_peak_gflops']:.1f} GFLOP/s; shares and speed_vs_reference "
             f"({report.get('speed_reference', '-')}'s update time / the tracker's): medians over paired rounds", "",
             "| tracker | backend | " + " | ".join(cols) + " |", "|---" * (len(cols) + 2) + "|"]
    for name, row in report["trackers"].items():
        cells = [f"{row[c]:.3g}" if c in row else "-" for c in cols]
        lines.append(f"| {name} | {row.get('backend', '-')} | " + " | ".join(cells) + " |")
    lines += [f"- skipped {name}: {why}" for name, why in report["skipped"].items()]
    staged = {name: row for name, row in report["trackers"].items() if "stages_ms" in row}
    if staged:
        lines += ["", "Time per stage of one update, ms (medians over interleaved rounds; each stage without the "
                  "stages it calls; rest: peak search, state update, host copies, Python):", "",
                  "| tracker | " + " | ".join(STAGES) + " | sum of stages | update median | update best |",
                  "|---" * (len(STAGES) + 4) + "|"]
        for name, row in staged.items():
            cells = [f"{row['stages_ms'][s]:.2f}" for s in STAGES]
            cells += [f"{row[c]:.2f}" for c in ("stages_sum_ms", "staged_update_median_ms", "staged_update_best_ms")]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

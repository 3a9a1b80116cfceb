"""The box head: its training pairs carry the target's true box, its loss and decoding agree on the grid of
SiamFC's displacement, a short run through tools/train.py exports the head alone, and a tracker moves its
box to the head's by the documented amounts."""
import runpy
from pathlib import Path

import numpy as np
import pytest
import skimage.data
import torch

from ientrack.checkpoint import load_checkpoint, save_checkpoint
from ientrack.data.box_pairs import BoxPairs
from ientrack.data.augment import Augmentation
from ientrack.data.pairs import View
from ientrack.models.box_head import BoxHead, cell_positions, decode_boxes
from ientrack.trackers.registry import build_tracker
from ientrack.train.box_head_trainer import cell_weights, generalized_iou


def test_a_pair_s_box_is_where_the_target_lies_in_the_search_crop():
    """A white square on black: its box in the search crop, read from the pixels, matches the item's box."""
    image = np.zeros((400, 400, 3), np.uint8)
    image[150:210, 170:250] = 255  # 80 x 60 pixels, centre (209.5, 179.5) in 0-based pixel coordinates
    pairs = BoxPairs([OneTarget(image)], 129, 257, seed=3, shift=30.0, scale_jitter=0.3)
    for i in range(3):
        pairs.set_epoch(i)
        _, x, target = pairs[0]
        box = target[:4]
        assert target[4:].tolist() == pytest.approx([80 * 129 / np.sqrt(150 * 130), 60 * 129 / np.sqrt(150 * 130)])
        mask = x[0].numpy() > 127
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        seen = np.array([cols[0] - 0.5, rows[0] - 0.5, cols[-1] + 0.5, rows[-1] + 0.5])  # the lit pixels' edges
        assert np.abs(seen - box.numpy()).max() < 1.5
        assert abs(float(box[0] + box[2]) / 2 - 128) > 0.5 or i  # off centre (the shift)


class OneTarget:
    """A pair source of one image whose target is known, without augmentation."""

    augmentation, name = Augmentation(), "one"

    def __init__(self, image):
        self.view = View(image, np.array([209.5, 179.5]), np.array([80.0, 60.0]))

    def __len__(self):
        return 1

    def views(self, index, rng):
        return self.view, self.view


def test_giou_and_the_decoded_boxes_agree_with_the_grid():
    positions = cell_positions(17, 8, 128.0)
    assert positions[:, 8, 8].tolist() == [128.0, 128.0] and positions[:, 0, 16].tolist() == [192.0, 64.0]
    delta = torch.zeros(1, 4, 17, 17)
    delta[0, 0], delta[0, 3] = 0.5, float(np.log(2))  # half a width to the right, twice as tall
    boxes = decode_boxes(delta, positions, torch.tensor([[20.0, 10.0]]))
    assert boxes[0, :, 8, 8].tolist() == pytest.approx([128.0, 118.0, 148.0, 138.0])
    a = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    assert generalized_iou(a, a).item() == pytest.approx(1.0)
    assert generalized_iou(a, torch.tensor([[5.0, 0.0, 15.0, 10.0]])).item() == pytest.approx(1 / 3)
    assert generalized_iou(a, torch.tensor([[20.0, 0.0, 30.0, 10.0]])).item() == pytest.approx(-1 / 3)
    weights = cell_weights(torch.tensor([[100.0, 100.0, 156.0, 156.0]]), positions, 16.0)
    assert weights.sum() == 13 and weights[0, 8, 8] == 1  # the centre cell and its 12 within two cells


def test_a_short_run_exports_the_head_alone_and_a_tracker_loads_it(tmp_path, capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    import cv2

    for name in ("astronaut", "coffee", "chelsea"):
        cv2.imwrite(str(folder / f"{name}.png"), getattr(skimage.data, name)()[..., ::-1])
    config = tmp_path / "head.yaml"
    config.write_text("type: effnet_siamfc\ntrain:\n  box_head: {pairs: 6, batch_size: 3, epochs: 2, workers: 0}\n")
    main = runpy.run_path(str(Path(__file__).resolve().parents[1] / "tools" / "train.py"))["main"]
    assert main(["--config", str(config), "--stage", "box_head", "--image-folder", str(folder), "--device", "cpu",
                 "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    assert "exported final box head" in capsys.readouterr().out
    state, meta = load_checkpoint(tmp_path / "run" / "box_head.pt")
    assert all(k.startswith("box_head.") for k in state) and meta["steps"] == 4 and meta["stage"] == "box_head"
    features, _ = load_checkpoint(tmp_path / "run" / "features.pt")
    assert features["t"].shape == (6, 6) and features["x"].shape == (6, 40, 25, 25)
    tracker = build_tracker(str(config), box_head_weights=str(tmp_path / "run" / "box_head.pt"), device="cpu",
                            backend="torch")
    boxes, _ = tracker.track([skimage.data.astronaut()] * 3, [150, 40, 120, 120])
    assert np.isfinite(boxes).all()


def constant_head(tmp_path, factor: float) -> str:
    """A head that says, at every cell, a box ``factor`` times the template's about the cell."""
    head = BoxHead(40, 8)
    torch.nn.init.constant_(head.delta.bias, float(np.log(factor)))
    head.delta.bias.data[:2] = 0.0
    path = tmp_path / "constant.pt"
    save_checkpoint(path, {f"box_head.{k}": v for k, v in head.state_dict().items()}, {})
    return str(path)


@pytest.mark.parametrize("num_rotations", [1, 4])
def test_the_size_moves_box_lr_of_the_way_to_the_head_s(tmp_path, num_rotations):
    """On a still frame the response peaks where the target is; the head says a box 1.5 times the template's
    about the peak's cell, so the size moves half of the way there (box_lr 0.5) and the centre stays."""
    image = skimage.data.astronaut()
    untrained = Path(__file__).resolve().parents[1] / "configs" / "ablations" / "effnet_siamfc_untrained.yaml"
    tracker = build_tracker(str(untrained), box_head_weights=constant_head(tmp_path, 1.5), device="cpu",
                            backend="torch", num_rotations=num_rotations, box_lr=0.5, box_center_lr=1.0)
    box = np.array([180.0, 60.0, 90.0, 110.0])
    tracker.init(image, box)
    side = tracker.base_x * tracker.scale  # search crop side in image pixels
    result = tracker.update(image)
    expected = 0.5 * box[2:] + 0.5 * 1.5 * box[2:]
    size = np.array([result.box[2], result.box[3]])
    assert np.abs(size - expected).max() < 0.01 * box[2:].max()
    center = result.box[:2] + size / 2
    assert np.abs(center - (box[:2] + box[2:] / 2)).max() < 0.5 * 8 * side / tracker.instance_size + 1

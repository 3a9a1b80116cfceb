"""Training pairs: SiamFC crop geometry, frame sampling, still images, rotation, determinism."""
import numpy as np
import pytest
import torch

from conftest import shared_path
from ientrack.data.augment import Augmentation
from ientrack.data.pairs import (
    SequencePairSource,
    StillImagePairSource,
    TrainingPairs,
    View,
    find_images,
    pair_sources,
)
from ientrack.data.sequence import Dataset, Sequence
from ientrack.geometry import box_center, exemplar_side

H, W = 360, 480


def bright_box_frame(box):
    """A dark frame with the 0-based box ``(x, y, w, h)`` filled white."""
    x, y, w, h = (int(v) for v in box)
    frame = np.full((H, W, 3), 20, np.uint8)
    frame[y:y + h, x:x + w] = 255
    return frame


def blob_stats(patch_chw: torch.Tensor):
    """Centroid ``(cx, cy)`` and extent ``(w, h)`` of the bright pixels of a crop."""
    ys, xs = np.nonzero(patch_chw[0].numpy() > 137)
    return np.array([xs.mean(), ys.mean()]), np.array([np.ptp(xs) + 1, np.ptp(ys) + 1])


def box_sequence(boxes, name="synthetic", one_based=False, requested=None):
    """A sequence whose frame ``i`` shows ``boxes[i]`` (shifted to 0-based when ``one_based``)."""
    boxes = np.asarray(boxes, dtype=np.float64)

    def load(i):
        if requested is not None:
            requested.append(i)
        box = boxes[i] - ([1, 1, 0, 0] if one_based else 0)
        return bright_box_frame(box if np.isfinite(box).all() and box[2] > 0 else [0, 0, 1, 1])

    return Sequence(name, [f"{i}.jpg" for i in range(len(boxes))], boxes, one_based=one_based, loader=load)


@pytest.mark.parametrize("one_based", [False, True])
def test_exemplar_and_search_crops_centre_the_target_at_siamfc_scale(one_based):
    box = [150, 100, 60, 40]
    seq = box_sequence([box, box], one_based=one_based)
    pairs = TrainingPairs([SequencePairSource([seq])], seed=0)
    side = exemplar_side((60, 40), 0.5)
    assert side == pytest.approx(np.sqrt((60 + 50) * (40 + 50)))
    for epoch in range(3):
        pairs.set_epoch(epoch)
        z, x = pairs[0]
        assert z.shape == (3, 127, 127) and x.shape == (3, 255, 255) and z.dtype == torch.uint8
        center, extent = blob_stats(z)
        np.testing.assert_allclose(center, [63, 63], atol=0.6)  # the exemplar is never shifted
        np.testing.assert_allclose(extent, np.array([60, 40]) * 127 / side, rtol=0.06, atol=1)  # stretch <= 5%
        center, extent = blob_stats(x)
        np.testing.assert_allclose(center, [127, 127], atol=4.6)  # shift <= 4 px
        np.testing.assert_allclose(extent, np.array([60, 40]) * 127 / side, rtol=0.06, atol=1)  # same scale


def test_sequence_pairs_stay_within_max_gap_and_skip_invalid_boxes():
    n = 40
    boxes = np.tile([100.0, 100.0, 30.0, 30.0], (n, 1))
    invalid = [3, 10, 11, 25]
    boxes[3] = np.nan
    boxes[10, 2] = 0
    boxes[11, 3] = -5
    boxes[25] = [100, 100, 0, 0]
    requested = []
    source = SequencePairSource([box_sequence(boxes, requested=requested)], max_gap=5, pairs_per_sequence=30)
    pairs = TrainingPairs([source], seed=1)
    for i in range(len(pairs)):
        requested.clear()
        pairs[i]
        first, second = requested
        assert first not in invalid and second not in invalid
        assert 0 < abs(first - second) <= 5


def test_sequences_without_two_valid_boxes_are_skipped_and_none_valid_is_an_error():
    good = box_sequence([[10, 10, 20, 20]] * 3, name="good")
    one_valid = box_sequence([[10, 10, 20, 20], [np.nan] * 4], name="one_valid")
    source = SequencePairSource(Dataset("d", [one_valid, good]))
    assert [s.name for s in source.sequences] == ["good"]
    with pytest.raises(ValueError, match="no sequence"):
        SequencePairSource([one_valid])


def test_pairs_are_deterministic_per_index_and_seed():
    images = [np.random.default_rng(k).integers(0, 256, (120, 160, 3), dtype=np.uint8) for k in range(3)]
    a = TrainingPairs([StillImagePairSource(images)], seed=7, rotate=True)
    b = TrainingPairs([StillImagePairSource(images)], seed=7, rotate=True)
    other = TrainingPairs([StillImagePairSource(images)], seed=8, rotate=True)
    for i in range(len(a)):
        for ta, tb in zip(a[i], b[i]):
            assert torch.equal(ta, tb)
        assert not torch.equal(a[i][1], other[i][1])
    first = a[0][2]
    a.set_epoch(1)
    assert a[0][2] != first


def bar_pairs(relative_angle, rotate_fraction=1.0, count=16):
    """Pairs of an asymmetric pattern: a bar pointing right from the target centre."""
    image = np.zeros((400, 400, 3), np.uint8)
    image[196:205, 200:262] = 255

    class Fixed:
        augmentation = Augmentation()

        def __len__(self):
            return count

        def views(self, index, rng):
            view = View(image, np.array([200.0, 200.0]), np.array([60.0, 60.0]))
            return view, view

    return TrainingPairs([Fixed()], rotate=True, seed=0, relative_angle=relative_angle, rotate_fraction=rotate_fraction)


def bar_angle(patch: torch.Tensor) -> float:
    """Direction of the bar from the crop centre, degrees counter-clockwise on screen."""
    c = (patch.shape[-1] - 1) / 2
    (cx, cy), _ = blob_stats(patch)
    return float(np.degrees(np.arctan2(-(cy - c), cx - c)))


def turn_between(a: float, b: float) -> float:
    return (b - a + 180) % 360 - 180


@pytest.mark.parametrize("relative_angle", [180.0, 15.0])
def test_rotate_turns_the_search_target_by_the_returned_angle_from_a_turned_exemplar(relative_angle):
    """Both crops show the target in a random pose; the search crop's is ``angle`` further
    counter-clockwise, with ``|angle| <= relative_angle``."""
    pairs = bar_pairs(relative_angle)
    poses, angles = [], []
    for i in range(len(pairs)):
        z, x, angle = pairs[i]
        assert angle.dtype == torch.float32 and abs(float(angle)) <= relative_angle
        assert abs(turn_between(bar_angle(z) + float(angle), bar_angle(x))) < 2.0
        poses.append(bar_angle(z))
        angles.append(float(angle))
    assert max(poses) - min(poses) > 180  # exemplars in poses over the whole circle
    assert max(angles) - min(angles) > relative_angle  # relative turns spread over their range


def test_still_image_pairs_hold_the_same_target_in_both_crops():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)
    source = StillImagePairSource([image], pairs_per_image=5)
    for i in range(5):
        view_z, view_x = source.views(i, np.random.default_rng(i))
        w, h = view_z.size
        assert 0.15 * 200 / np.sqrt(2) - 1e-6 <= min(w, h) and max(w, h) <= 0.5 * 200 * np.sqrt(2) + 1e-6
        assert np.all(view_z.center - (view_z.size - 1) / 2 >= 0)
        assert np.all(view_z.center + (view_z.size - 1) / 2 <= [299, 199])
        np.testing.assert_array_equal(view_x.center, view_z.center)


def test_without_augmentation_the_exemplar_is_the_centre_of_the_search_crop():
    """Both crops have the same pixel scale: x's central 127 x 127 pixels are z (SiamFC's geometry)."""
    image = np.random.default_rng(0).integers(0, 256, (200, 300, 3), dtype=np.uint8)

    class Plain(StillImagePairSource):
        augmentation = Augmentation()

    pairs = TrainingPairs([Plain([image], pairs_per_image=3)], seed=0)
    for i in range(3):
        z, x = pairs[i]
        diff = (x[:, 64:191, 64:191].int() - z.int()).abs()
        assert diff.max() <= 1
    assert not torch.equal(pairs[0][0], pairs[1][0])  # the random boxes differ


def test_find_images_is_recursive_and_names_an_empty_folder(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ["a/one.JPEG", "a/b/two.png", "three.jpg", "notes.txt"]:
        (tmp_path / name).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in find_images(tmp_path)]
    assert found == ["a/b/two.png", "a/one.JPEG", "three.jpg"]  # sorted paths, any case, no .txt
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty"):
        find_images([tmp_path / "empty"])
    with pytest.raises(FileNotFoundError, match="missing"):
        find_images(tmp_path / "missing")
    with pytest.raises(ValueError, match="no training data"):
        pair_sources()


def test_pairs_from_the_imagenet_samples():
    folder = shared_path("imagenet_samples")
    pairs = TrainingPairs(pair_sources(image_folders=[folder]), seed=0)
    assert len(pairs) == len(find_images(folder)) >= 100
    z, x = pairs[5]
    assert z.shape == (3, 127, 127) and x.shape == (3, 255, 255)
    assert z.float().std() > 5  # real image content, not the border colour


def test_pairs_from_real_otb_sequences():
    from ientrack.data.otb import load_otb

    with pytest.warns(UserWarning):
        dataset = load_otb(shared_path("otb"), "OTB100", allow_partial=True)
    source, = pair_sources(datasets=[dataset])
    assert len(source) == len(dataset)
    view_z, view_x = source.views(0, np.random.default_rng(0))
    centers = box_center(dataset[0].gt) - 1  # OTB files are 1-based; views are 0-based
    assert np.isclose(centers, view_z.center).all(axis=1).any() and np.isclose(centers, view_x.center).all(axis=1).any()
    pairs = TrainingPairs([source], seed=0)
    z, x = pairs[0]
    assert z.shape == (3, 127, 127) and x.shape == (3, 255, 255) and x.float().std() > 5


def test_a_relative_angle_outside_0_180_is_refused():
    with pytest.raises(ValueError, match="relative_angle"):
        bar_pairs(200.0)
    with pytest.raises(ValueError, match="rotate_fraction"):
        bar_pairs(15.0, rotate_fraction=1.5)


@pytest.mark.parametrize("fraction, low, high", [(0.0, 1.0, 1.0), (0.5, 0.3, 0.7)])
def test_rotate_fraction_keeps_the_other_pairs_upright_and_still_turns_their_search_crop(fraction, low, high):
    pairs = bar_pairs(15.0, rotate_fraction=fraction, count=40)
    upright, turned = 0, []
    for i in range(len(pairs)):
        z, x, angle = pairs[i]
        if abs(bar_angle(z)) < 2.0:
            upright += 1
            turned.append(turn_between(bar_angle(z), bar_angle(x)))
            assert abs(turned[-1] - float(angle)) < 2.0
    assert low <= upright / len(pairs) <= high
    assert max(turned) - min(turned) > 15  # the upright pairs' search crops still turn by +-15 degrees


def test_rotate_fraction_1_draws_the_same_pairs_as_before():
    """The shipped trackers' training pairs do not change with the option: the common pose and relative
    angle of the first items are those the code drew before it had ``rotate_fraction`` (eb4fe2b)."""
    pairs = bar_pairs(15.0, rotate_fraction=1.0)
    before = [(49.3, -6.906398773193359), (-18.2, -3.2687509059906006), (44.15, -2.181076765060425),
              (95.24, -1.725262999534607)]
    for i, (pose, angle) in enumerate(before):
        z, _, drawn = pairs[i]
        assert float(drawn) == pytest.approx(angle, abs=1e-6)
        assert bar_angle(z) == pytest.approx(pose, abs=0.5)


def test_a_partial_dataset_by_name_needs_allow_partial():
    from ientrack.data.errors import DatasetNotFoundError

    root = shared_path("otb")
    with pytest.raises(DatasetNotFoundError, match="OTB100"):
        pair_sources(["OTB100"], data_root=root)
    with pytest.warns(UserWarning, match="loading the 4 present"):
        source, = pair_sources(["OTB100"], data_root=root, allow_partial=True)
    assert len(source) == 4

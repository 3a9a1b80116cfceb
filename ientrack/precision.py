"""Mixed precision as one optional autocast type (``None``: full precision) across training and tests."""
from typing import Optional

import torch


def autocast(device: torch.device, amp: Optional[torch.dtype]):
    """``torch.autocast`` on ``device``'s type in ``amp``, or a disabled one when ``amp`` is ``None``."""
    return torch.autocast(device_type=device.type, dtype=amp or torch.float32, enabled=amp is not None)

"""Mixed precision as one optional autocast type (``None``: full precision) across training and tests."""
from typing import Optional

import torch


def autocast(device: torch.device, amp: Optional[torch.dtype]):
    """``torch.autocast`` on ``device``'s type in ``amp``, or a disabled one when ``amp`` is ``None``."""
    return torch.autocast(device_type=device.type, dtype=amp or torch.float32, enabled=amp is not None)


def amp_dtype(device: torch.device, enabled: Optional[bool] = None) -> Optional[torch.dtype]:
    """The autocast type of mixed precision on ``device`` (``None``: full precision). By default on CUDA
    only; bfloat16 where the device has it (no overflow of the raw cross-correlation, no loss scaling
    needed; on the CPU it is the type with fast kernels, AMX where the CPU has it), else float16 with a
    :class:`torch.amp.GradScaler`."""
    if enabled is False or (enabled is None and device.type != "cuda"):
        return None
    # emulated bfloat16 (before Ampere; torch counts it as support by default) is slow: float16 there
    if device.type != "cuda" or torch.cuda.is_bf16_supported(including_emulation=False):
        return torch.bfloat16
    return torch.float16

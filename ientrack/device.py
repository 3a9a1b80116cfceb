"""The one way the toolkit turns a ``--device`` / ``device:`` setting into a torch device."""
import torch


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` (CUDA where available, else CPU), ``cpu``, ``cuda`` or ``cuda:N`` as a torch device;
    asking for CUDA on a machine without it is an error."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except RuntimeError:
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {device!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch finds no CUDA device (use --device cpu or auto)")
    return device

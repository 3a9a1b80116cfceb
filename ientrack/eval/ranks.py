"""torchrun coordination of an evaluation: which GPU a rank tracks on, waiting for every rank before
scoring, and which rank scores. Without torchrun (``WORLD_SIZE`` unset or 1) each is a no-op."""
import os
from datetime import timedelta

import torch

from ientrack.distributed import rank_device


def distributed() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def use_the_rank_gpu(device: torch.device):
    """Under torchrun, "cuda" (a config's ``device: auto`` too) means this rank's GPU, not the first."""
    if distributed() and torch.cuda.is_available() and device.type != "cpu":
        torch.cuda.set_device(rank_device("cuda"))


def wait_for_all_ranks():
    """Under torchrun, rank 0 scores only after every rank has written its sequences (however long the
    slowest rank tracks: the barrier's timeout is a day, not the default 30 minutes)."""
    if distributed():
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("gloo", timeout=timedelta(days=1))
        dist.barrier()


def is_main_rank() -> bool:
    return int(os.environ.get("RANK", "0")) == 0

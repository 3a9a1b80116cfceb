"""The process group of a job: who this process is, where it computes, and talking to the others.

Shared by training (DDP) and evaluation (one share of the sequences per process).

A job started by ``torchrun`` (one or many machines) finds ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT`` in its environment; a plain ``python`` run finds none and is a world
of one. The backend is NCCL on CUDA and gloo on CPU.
"""
import os
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ientrack.device import resolve_device


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: its global ``rank``, the ``world_size``, its ``local_rank`` on its
    machine and the ``device`` it computes on."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value != "" else default
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} is not an integer") from None


def rank_device(device: str = "auto") -> torch.device:
    """:func:`resolve_device`, where CUDA without an index means the GPU of this process's ``LOCAL_RANK``
    (set by torchrun; 0 in a plain run), so that the processes of one machine use one GPU each."""
    dev = resolve_device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", _env_int("LOCAL_RANK", 0) % torch.cuda.device_count())
    return dev


def init_distributed(device: str = "auto") -> DistContext:
    """Join the process group described by the torchrun environment (or make a world of one).

    On CUDA each process takes the GPU of its ``LOCAL_RANK``. Safe to call when a group already exists.
    """
    rank, world_size = _env_int("RANK", 0), _env_int("WORLD_SIZE", 1)
    local_rank = _env_int("LOCAL_RANK", 0)
    dev = rank_device(device)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistContext(rank=rank, world_size=world_size, local_rank=local_rank, device=dev)


def found_by_every_process(path, ctx: DistContext) -> bool:
    """Whether ``path`` exists; an error when only some processes see it (multi-machine runs resume
    from an ``out_dir`` on a file system that every machine shares)."""
    found = path.is_file()
    share = float(all_reduce_mean(torch.tensor([float(found)], device=ctx.device)))
    if 0 < share < 1:
        raise RuntimeError(f"{path} is seen by only some of the {ctx.world_size} processes: "
                           "put --out on a file system shared by every machine")
    return found


def print0(*args, **kwargs) -> None:
    """``print`` on rank 0 only (every process of a world of one is rank 0)."""
    if not dist.is_initialized() or dist.get_rank() == 0:
        print(*args, **kwargs)


def barrier() -> None:
    """Wait for every process (nothing to do in a world of one)."""
    if dist.is_initialized():
        dist.barrier()


def all_reduce_mean(value: torch.Tensor) -> torch.Tensor:
    """The mean of ``value`` over all processes (a copy; ``value`` itself in a world of one)."""
    if not dist.is_initialized():
        return value
    value = value.detach().clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value / dist.get_world_size()


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside a ``DistributedDataParallel`` wrapper (or the module itself)."""
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model


def cleanup(wait: bool = True) -> None:
    """Leave the process group, if one was joined; with ``wait``, after every process has come this far
    (a process that tears the group down while another still talks to it, e.g. rank 0 with the store, can
    abort)."""
    if dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


@contextmanager
def process_group(device: str = "auto"):
    """``with process_group(device) as ctx:`` :func:`init_distributed` for the block, and where this call
    joined the group, leaving it afterwards: after a barrier when the block ends, at once on an error
    (waiting for processes that may be stuck elsewhere would hang the job)."""
    joined_before = dist.is_initialized()
    ctx = init_distributed(device)
    try:
        yield ctx
    except BaseException:
        if not joined_before:
            cleanup(wait=False)
        raise
    if not joined_before:
        cleanup()

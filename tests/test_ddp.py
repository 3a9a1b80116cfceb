"""Distributed data parallel on CPU (gloo, 2 processes): gradients and a short train_tracker run."""
import os

import numpy as np
import pytest
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from conftest import spawn_on_a_free_port
from ientrack.data.pairs import StillImagePairSource
from ientrack.device import resolve_device
from ientrack.distributed import DistContext, all_reduce_mean, cleanup, init_distributed, print0
from ientrack.train.siamese_loss import BalancedLoss
from ientrack.train.tracker_actor import TrackerActor
from ientrack.train.tracker_trainer import build_siamese_net, train_tracker

CONFIG = {"name": "siamfc_ddp", "backbone": "alexnet", "exemplar_size": 127, "instance_size": 191}
BATCH = 4


def batch():
    rng = np.random.default_rng(0)
    z = torch.from_numpy(rng.integers(0, 256, (BATCH, 3, 127, 127), dtype=np.uint8))
    x = torch.from_numpy(rng.integers(0, 256, (BATCH, 3, 191, 191), dtype=np.uint8))
    return z, x


def model():
    torch.manual_seed(0)
    # eval-mode BatchNorm: with batch statistics each process would normalise by its own half
    # (SyncBatchNorm, used on CUDA, is GPU-only), so exact equality holds for the data-parallel part
    return build_siamese_net(CONFIG).eval()


def forward_backward(model, loss_fn, z, x):
    """The tracker actor's loss of the batch (no IEN term) and its gradients accumulated into ``model``."""
    loss, _ = TrackerActor(model, loss_fn, None, torch.device("cpu")).loss(model, (z, x), {})
    loss.backward()
    return loss.detach()


def gradients(net):
    return {k: p.grad.clone() for k, p in net.named_parameters()}


def images():
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (120, 160, 3), dtype=np.uint8) for _ in range(4)]


def worker(rank, port, world_size, out_dir):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    ctx = init_distributed("cpu")
    assert (ctx.rank, ctx.world_size, ctx.distributed) == (rank, world_size, True)
    assert dist.get_backend() == "gloo"
    net = DistributedDataParallel(model())
    z, x = batch()
    half = slice(rank * BATCH // 2, (rank + 1) * BATCH // 2)
    loss = forward_backward(net, BalancedLoss(9, 8), z[half], x[half])
    mean_loss = all_reduce_mean(loss)
    if rank == 0:
        torch.save({"grads": gradients(net.module), "loss": mean_loss}, os.path.join(out_dir, "ddp.pt"))
    # the whole trainer under the same group: the DistributedSampler splits 4 pairs into 2 x batch 1
    result = train_tracker(CONFIG, [StillImagePairSource(images())], os.path.join(out_dir, "run"), epochs=1,
                           batch_size=1, device="cpu", workers=0, progress=False,
                           export=os.path.join(out_dir, "run", "export.pt"))
    # parameters (BatchNorm running statistics are per process until DDP broadcasts rank 0's)
    params = torch.cat([p.detach().flatten() for p in result["model"].parameters()])
    synced = [torch.zeros_like(params) for _ in range(world_size)]
    dist.all_gather(synced, params)
    assert result["step"] == 2 and torch.equal(synced[0], synced[1])  # replicas stay identical
    cleanup()


def test_two_process_gradients_equal_one_process_on_the_whole_batch(tmp_path):
    spawn_on_a_free_port(worker, (2, str(tmp_path)))
    net = model()
    z, x = batch()
    loss = forward_backward(net, BalancedLoss(9, 8), z, x)
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=True)
    torch.testing.assert_close(ddp["loss"], loss, rtol=1e-5, atol=1e-6)
    for name, grad in gradients(net).items():
        torch.testing.assert_close(ddp["grads"][name], grad, rtol=1e-5, atol=1e-5, msg=name)
    assert (tmp_path / "run" / "export.pt").is_file()


def test_a_plain_process_is_a_world_of_one(monkeypatch, capsys):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    ctx = init_distributed("cpu")
    assert ctx == DistContext(0, 1, 0, torch.device("cpu")) and ctx.is_main and not ctx.distributed
    value = torch.tensor([3.0])
    assert all_reduce_mean(value) is value
    print0("hello")
    assert capsys.readouterr().out == "hello\n"


def test_a_run_leaves_the_group_it_joined_after_a_barrier_and_at_once_on_an_error(monkeypatch):
    from ientrack import distributed

    calls, joined = [], []
    monkeypatch.setattr(dist, "is_initialized", lambda: bool(joined))
    monkeypatch.setattr(distributed, "init_distributed", lambda device: joined.append(1) or DistContext())
    monkeypatch.setattr(dist, "barrier", lambda: calls.append("barrier"))
    monkeypatch.setattr(dist, "destroy_process_group", lambda: calls.append("destroy") or joined.clear())
    with distributed.process_group("cpu") as ctx:
        assert ctx == DistContext()
    assert calls == ["barrier", "destroy"]
    calls.clear()
    with pytest.raises(KeyError):  # an error: no barrier, where the other processes may never arrive
        with distributed.process_group("cpu"):
            raise KeyError("a failing step")
    assert calls == ["destroy"]
    calls.clear()
    joined.append(1)  # a group joined by the caller (the test above, torchrun scripts) is the caller's to leave
    with distributed.process_group("cpu"):
        pass
    assert calls == [] and joined


def test_bad_environment_and_devices_are_named(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ValueError, match="WORLD_SIZE"):
        init_distributed("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            resolve_device("cuda")
    with pytest.raises(ValueError, match="device must be auto, cpu, cuda"):
        resolve_device("gpu")


def test_each_rank_of_a_machine_tracks_on_its_own_gpu(monkeypatch):
    """torchrun --nproc_per_node 4 tools/test.py: every rank put its trackers on cuda:0 ("cuda" is the
    current GPU). Four GPUs faked on the CPU: local rank 5 (eight processes, four GPUs) takes GPU 1."""
    from ientrack.eval import ranks
    from ientrack.distributed import rank_device

    chosen = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setattr(torch.cuda, "set_device", chosen.append)
    monkeypatch.setenv("LOCAL_RANK", "5")
    assert rank_device("auto") == rank_device("cuda") == torch.device("cuda", 1)
    assert rank_device("cuda:3") == torch.device("cuda", 3) and rank_device("cpu") == torch.device("cpu")
    ranks.use_the_rank_gpu(resolve_device(None))  # a plain run: nothing to choose
    monkeypatch.setenv("WORLD_SIZE", "8")
    ranks.use_the_rank_gpu(resolve_device("cpu"))
    assert chosen == []
    ranks.use_the_rank_gpu(resolve_device(None))  # the config's device: auto
    assert chosen == [torch.device("cuda", 1)]

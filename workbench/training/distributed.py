"""Training in several processes under torchrun: DistributedDataParallel, NCCL on CUDA, Gloo on the CPU.

    torchrun --nproc_per_node 4 -m workbench train cifar10-cnn --out runs/c    # 4 GPUs of one machine

torchrun starts the processes and tells each its place (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT);
`join()` reads them and returns the `World` the engine asks at a few points:

- The batch size is the global one. Every step each rank takes its contiguous share of the global
  batch of the epoch's shuffled order (`shard`), so together the ranks see exactly the samples one
  process would. Each rank's mean loss is weighted by its share (`share_weight`) so that DDP's
  average of the ranks' gradients is the gradient of the whole batch's mean loss: the step one
  process takes, with the same learning rate (nothing is rescaled).
- Validation: each rank evaluates its share of the validation set; sums are added up (`sum`).
- The ranks agree at sync points (`agree`): the loss of every step since the last one (a non-finite
  one on any rank ends every rank), whether any rank was asked to stop, and when the next sync is
  (rank 0 picks it from its step time, so syncs come about every log interval, at the same step on
  every rank: a time-based choice per rank would make them wait for collectives the others never
  start).
- A failure on one rank (an exception in its step) cannot be agreed on: the others are waiting in
  a collective. Its message goes to the rendezvous store first (`settle_failure`); a rank whose
  collective then fails reports that message instead of its own "connection closed".
- BatchNorm becomes SyncBatchNorm (statistics of the global batch) on GPUs unless the run asks for
  per-process statistics; torch's SyncBatchNorm needs GPUs, so on the CPU they are per-process.

Rank 0 alone writes the run folder and prints; the other ranks train and stay quiet.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from workbench.training.config import ConfigError

T = TypeVar("T")
# the first failing rank's message, in the rendezvous store (torchrun may restart the workers: one per attempt)
FAILURE_KEY = "workbench/failure/{attempt}"
ENVIRONMENT = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


class PeerFailed(Exception):
    """Another rank failed before the run started; it says why, this rank ends quietly."""


@dataclass(frozen=True)
class World:
    """Where this process stands among those training the run; `World()` is one process alone."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    sync_batch_norm: bool = True  # SyncBatchNorm on GPUs; False keeps BatchNorm statistics per process

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # setting up ------------------------------------------------------------------------------------
    def device_for(self, device: torch.device) -> torch.device:
        """This rank's device: its own GPU (LOCAL_RANK) when the run trains on CUDA."""
        if not self.distributed:
            return device
        if device.type == "mps":
            raise ConfigError("training.device: Apple MPS cannot train in several processes; use one process "
                              "(python -m workbench train) or the CPU")
        if device.type != "cuda":
            return device
        if self.local_rank >= torch.cuda.device_count():
            raise ConfigError(f"process {self.rank + 1} (local rank {self.local_rank}) has no GPU of its own: this "
                              f"machine has {torch.cuda.device_count()}; start at most that many processes per "
                              f"node (--nproc_per_node)")
        device = torch.device("cuda", self.local_rank)
        torch.cuda.set_device(device)
        return device

    def batch_norm(self, device: torch.device) -> str:
        """How BatchNorm layers normalize: "sync" (the global batch) or "per-process"."""
        return "sync" if self.distributed and self.sync_batch_norm and device.type == "cuda" else "per-process"

    def prepare(self, model: nn.Module, device: torch.device) -> nn.Module:
        """The network as this world trains it: SyncBatchNorm where the batch norm is "sync"
        (same parameters and buffers, so checkpoints are the same)."""
        if self.distributed and self.batch_norm(device) == "sync":
            return nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return model

    def seed(self, seed: int) -> None:
        """After the network is built (the same on every rank): dropout, augmentation and noise draw
        differently on each rank, as they would for different samples in one process."""
        if self.distributed:
            torch.manual_seed(seed * 7919 + self.rank)

    def check_batch(self, batch_size: int) -> None:
        if batch_size < self.size:
            raise ConfigError(f"training.batch_size {batch_size} is smaller than the {self.size} processes training "
                              f"the run (it is the global batch, shared by them): use at least {self.size}")

    def wrap(self, model: nn.Module, device: torch.device, *, find_unused: bool = False) -> nn.Module:
        """What the training step calls: DDP around the model (it averages gradients in backward)."""
        if not self.distributed:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=find_unused)

    def main_first(self, build: Callable[[], T]) -> T:
        """Rank 0 builds first (it creates the run folder, downloads a dataset), then the others. A
        failure ends every rank: the failing rank raises its error, the others PeerFailed."""
        if not self.distributed:
            return build()
        result: T | None = None
        for turn in (True, False):
            error: BaseException | None = None
            if self.is_main == turn:
                try:
                    result = build()
                except Exception as exc:  # noqa: BLE001 - every rank must reach the agreement below
                    error = exc
            failed = torch.tensor([float(error is not None)])
            dist.all_reduce(failed)
            if error is not None:
                raise error
            if failed.item() > 0:
                raise PeerFailed("another process of the run failed to start (its message is above)")
        assert result is not None
        return result

    # while training --------------------------------------------------------------------------------
    def shard(self, index: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous share of a global batch (sizes differ by at most one)."""
        return shard(index, self.rank, self.size)

    def share_weight(self, share: int, whole: int) -> float:
        """What this rank's mean loss is multiplied by: DDP averages the ranks' gradients, so a share
        of size b of a batch of size B counts b * size / B (1 when the shares are equal)."""
        return share * self.size / whole

    def share_range(self, n: int) -> tuple[int, int]:
        """This rank's contiguous share [lo, hi) of n items (the validation set)."""
        return n * self.rank // self.size, n * (self.rank + 1) // self.size

    def sum(self, tensors: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Every rank's tensors added up (one collective for all of them); the same tensors alone."""
        if not self.distributed:
            return list(tensors)
        flat = torch.cat([t.detach().reshape(-1).double() for t in tensors])
        dist.all_reduce(flat)
        out, at = [], 0
        for t in tensors:
            out.append(flat[at:at + t.numel()].reshape(t.shape).to(t.dtype))
            at += t.numel()
        return out

    def agree(self, losses: torch.Tensor, stop: bool, next_sync: int) -> tuple[torch.Tensor, bool, int]:
        """At a sync point: the steps' losses averaged over the ranks (NaN when any rank's is), whether
        any rank was asked to stop, and rank 0's choice of the next sync step."""
        packet = torch.cat([losses.detach().float().reshape(-1),
                            torch.tensor([float(stop), float(next_sync) if self.is_main else 0.0],
                                         device=losses.device)])
        dist.all_reduce(packet)
        packet = packet.cpu()
        return packet[:-2] / self.size, bool(packet[-2] > 0), int(packet[-1])

    def broadcast_buffers(self, model: nn.Module) -> None:
        """Rank 0's BatchNorm running statistics on every rank, so validation is the same network."""
        if self.distributed:
            for buffer in model.buffers():
                dist.broadcast(buffer, 0)

    def settle_failure(self, message: str) -> tuple[str, int]:
        """The message a failed rank reports and the rank it happened on: the first failure's,
        whichever rank that was (a rank whose collective failed because another rank died would
        only say "connection closed by peer")."""
        store = _store() if self.distributed else None
        if store is None:
            return message, self.rank
        try:
            key = FAILURE_KEY.format(attempt=os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
            first = store.compare_set(key, "", f"{self.rank}\t{message}").decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - the store went with a dead rank 0: our own message will do
            return message, self.rank
        rank, _, text = first.partition("\t")
        if int(rank) == self.rank:
            return text, self.rank
        return f"process {int(rank) + 1} of {self.size} failed: {text}", int(rank)


SINGLE = World()


def shard(index: torch.Tensor, rank: int, size: int) -> torch.Tensor:
    """Rank `rank`'s contiguous share of the global batch `index` among `size` ranks."""
    n = len(index)
    return index[n * rank // size:n * (rank + 1) // size]


def launched() -> bool:
    """Whether torchrun (or a launcher like it) started this process as one of several."""
    return all(key in os.environ for key in ENVIRONMENT)


def join(sync_batch_norm: bool = True) -> World:
    """Join the run's process group, at the place torchrun gave this process (Gloo for CPU tensors,
    NCCL for CUDA ones: the engine picks the device later)."""
    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
    if size > 1 and not dist.is_initialized():
        try:
            dist.init_process_group(backend, rank=rank, world_size=size)
        except RuntimeError as exc:  # the rendezvous timed out, the address is unreachable
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"process {rank + 1} of {size} cannot join the others: {first[:300]}") from None
    return World(rank, size, local_rank, sync_batch_norm)


def leave(together: bool = True) -> None:
    """Leave the process group. `together`: every rank is leaving now (the run ended on all of
    them), so they wait for each other first: a Gloo rank that left while another still used the
    group was seen to abort ("terminate called without an active exception")."""
    if dist.is_available() and dist.is_initialized():
        if together:
            try:
                dist.barrier()
            except RuntimeError:  # another rank is gone after all: nothing left to wait for
                pass
        dist.destroy_process_group()


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def _store() -> dist.Store | None:
    """The rendezvous key-value store (reachable while collectives are broken)."""
    try:
        from torch.distributed import distributed_c10d

        return distributed_c10d._get_default_store()
    except Exception:  # noqa: BLE001 - a torch without it: failures keep their own message
        return None

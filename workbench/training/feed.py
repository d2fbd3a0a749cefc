"""Where training batches come from: the training set kept on the device when it fits there,
streamed from pinned host memory otherwise, and this process's share of each batch.

    data, streamed = place(dataset, device)              # on the device if it fits, else stays on the host
    feed = BatchFeed(data.train_x, data.train_y, device)  # rank=r, world_size=n: one share per process
    feed.steps(batch_size)                                # batches per epoch, the same on every rank
    for batch in feed.batches(order, batch_size):         # order: a permutation of the training set
        batch.x, batch.y, batch.whole                     # on `device`; whole: the global batch's size

`batch_size` is the global batch. Every rank is given the same `order` (the engine draws it from the
seed and the epoch) and takes its contiguous share of each global batch (distributed.shard), so
together the ranks see exactly the samples one process would.

Streaming gathers each batch into pinned host memory and copies it on a side CUDA stream while the
previous step computes; the step waits for its own batch only.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterator, NamedTuple

import torch

from workbench.data import Dataset
from workbench.training.distributed import shard

# The data stays on the GPU if it takes at most this share of the free memory: the rest is for the
# network, its activations and gradients, and the optimizer's state.
FIT_SHARE = 0.5


def dataset_bytes(data: Dataset) -> int:
    return sum(t.numel() * t.element_size() for t in (data.train_x, data.train_y, data.val_x, data.val_y))


def free_bytes(device: torch.device) -> int | None:
    """Free memory on a CUDA device (None where the device shares the host's memory: CPU, MPS)."""
    if device.type != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info(device)
    return free


def place(data: Dataset, device: torch.device, memory_format: torch.memory_format = torch.contiguous_format,
          share: float = FIT_SHARE) -> tuple[Dataset, bool]:
    """The dataset where it trains, and whether its training set streams from host memory.

    Kept whole on the device when it takes at most `share` of the free memory (always on the CPU).
    Otherwise the training images stay on the host and stream; the labels, and the validation set if
    it fits on its own, go to the device. Images on the device are stored in `memory_format` (conv
    networks train faster in channels_last on GPUs), so a batch indexed out of them is in it already.
    """
    free = free_bytes(device)
    if free is None or dataset_bytes(data) <= share * free:
        return _to(data, device, memory_format, train=True, val=True), False
    val_bytes = data.val_x.numel() * data.val_x.element_size()
    return _to(data, device, memory_format, train=False, val=val_bytes <= share * free), True


def to_layout(x: torch.Tensor, memory_format: torch.memory_format) -> torch.Tensor:
    """Image batches (N×C×H×W) in `memory_format`; anything else as it is."""
    return x.contiguous(memory_format=memory_format) if x.dim() == 4 else x


def _to(data: Dataset, device: torch.device, memory_format: torch.memory_format, train: bool, val: bool) -> Dataset:
    def moved(x: torch.Tensor, there: bool) -> torch.Tensor:
        return to_layout(x.to(device), memory_format) if there else x

    return replace(data, train_x=moved(data.train_x, train), train_y=data.train_y.to(device),
                   val_x=moved(data.val_x, val), val_y=data.val_y.to(device))


def _same_device(a: torch.device, b: torch.device) -> bool:
    """"cuda" (the current GPU) is the same device as "cuda:0" when that is the current one."""
    def index(d: torch.device) -> int:
        if d.index is not None:
            return d.index
        return torch.cuda.current_device() if d.type == "cuda" else 0

    return a.type == b.type and index(a) == index(b)


def steps_for(samples: int, batch_size: int, world_size: int = 1) -> int:
    """Batches per epoch. A last, smaller batch is left out unless every process gets two samples of it
    (a different few samples each epoch, as the order is shuffled): batch normalization cannot train on
    one sample, and one sample's step is mostly noise."""
    full, rest = divmod(samples, batch_size)
    return max(1, full + (rest >= 2 * world_size))


class Batch(NamedTuple):
    x: torch.Tensor  # this rank's share of the batch's inputs, on the device
    y: torch.Tensor
    whole: int       # samples in the whole (global) batch: the shares of all ranks together


class BatchFeed:
    """Batches of (x, y) on `device` in a given order, this rank's share of it (see the module doc).

    x stays where it is: on `device` (indexed there), or on the host (streamed; `stream` forces either,
    None: stream when x is not on `device`). `memory_format` is the layout streamed image batches are
    given on the device (resident ones keep x's own layout)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, device: torch.device, *, rank: int = 0,
                 world_size: int = 1, memory_format: torch.memory_format = torch.contiguous_format,
                 stream: bool | None = None):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not one of world_size {world_size} ranks")
        self.device = torch.device(device)
        self.x, self.y = x, y.to(self.device)  # labels are small: always on the device
        self.rank, self.world_size = rank, world_size
        self.memory_format = memory_format
        self.streamed = not _same_device(x.device, self.device) if stream is None else stream

    def steps(self, batch_size: int) -> int:
        return steps_for(len(self.x), batch_size, self.world_size)

    def batches(self, order: torch.Tensor, batch_size: int) -> Iterator[Batch]:
        """steps(batch_size) batches, in `order` (a CPU permutation of range(len(x)))."""
        spans = [(i * batch_size, min((i + 1) * batch_size, len(order))) for i in range(self.steps(batch_size))]
        on_device = order.to(self.device)
        shares = [shard(on_device[start:stop], self.rank, self.world_size) for start, stop in spans]
        if not self.streamed:
            for (start, stop), index in zip(spans, shares):
                yield Batch(self.x[index], self.y[index], stop - start)
            return
        on_host = [shard(order[start:stop], self.rank, self.world_size) for start, stop in spans]
        images = self._stream_cuda(on_host) if self.device.type == "cuda" else (
            torch.index_select(self.x, 0, index) for index in on_host)  # host to host: tests without a GPU
        for (start, stop), index, xb in zip(spans, shares, images):
            yield Batch(to_layout(xb, self.memory_format), self.y[index], stop - start)

    def head(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """This rank's share of a first batch in the unshuffled order (compiling warms up on it)."""
        index = shard(torch.arange(min(batch_size, len(self.x))), self.rank, self.world_size)
        x = self.x[index.to(self.x.device)]
        x = to_layout(x.to(self.device), self.memory_format) if self.streamed else x
        return x, self.y[index.to(self.device)]

    def _stream_cuda(self, shares: list[torch.Tensor]) -> Iterator[torch.Tensor]:
        """Images of batch i+1 are gathered and copied (on a side stream) while step i computes. Pinned
        blocks come from torch's caching host allocator, which reuses one only once the copy reading it
        has finished."""
        copier, compute = torch.cuda.Stream(self.device), torch.cuda.current_stream(self.device)

        def fetch(index: torch.Tensor) -> tuple[torch.Tensor, torch.cuda.Event]:
            staged = torch.empty((len(index), *self.x.shape[1:]), dtype=self.x.dtype, pin_memory=True)
            torch.index_select(self.x, 0, index, out=staged)
            with torch.cuda.stream(copier):
                xb = staged.to(self.device, non_blocking=True)
                ready = torch.cuda.Event()
                ready.record(copier)
            return xb, ready

        ahead = fetch(shares[0])
        for i in range(len(shares)):
            xb, ready = ahead
            if i + 1 < len(shares):
                ahead = fetch(shares[i + 1])
            compute.wait_event(ready)
            xb.record_stream(compute)  # made on the copier: freed only once the compute stream is done with it
            yield xb

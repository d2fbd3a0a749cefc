"""Layer modules that torch.nn lacks. Imports only torch, so export can copy the source verbatim."""
import torch
from torch import nn


class Corruption(nn.Module):
    """Corrupts its input while training (denoising autoencoders); the identity in eval mode.

    kind: "gaussian" adds N(0, level²) noise; "masking" zeroes each value with probability level;
    "salt_pepper" sets each value to 0 or 1 with probability level.
    """

    def __init__(self, kind: str = "gaussian", level: float = 0.3):
        super().__init__()
        self.kind = kind
        self.level = level

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.level == 0:
            return x
        if self.kind == "gaussian":
            return x + self.level * self._like(torch.randn, x)
        hit = self._like(torch.rand, x) < self.level
        if self.kind == "masking":
            return x.masked_fill(hit, 0.0)
        salt = (self._like(torch.rand, x) < 0.5).to(x.dtype)
        return torch.where(hit, salt, x)

    @staticmethod
    def _like(draw, x: torch.Tensor) -> torch.Tensor:
        """draw(shape) laid out like x. On a channels_last batch (what conv networks train on, on the
        CPU) randn_like/rand_like take ~8× longer than on a contiguous one: drawn NHWC, then viewed."""
        if x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
            n, c, h, w = x.shape
            return draw(n, h, w, c, dtype=x.dtype, device=x.device).permute(0, 3, 1, 2)
        return draw(x.shape, dtype=x.dtype, device=x.device)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, level={self.level}"


class Add(nn.Module):
    """The element-wise sum of its inputs (a residual connection); all of one shape."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total


class Concat(nn.Module):
    """Its inputs joined along the channels (dim 1): volumes of equal height and width, or vectors."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, dim=1)

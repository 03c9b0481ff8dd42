"""Causal dilated temporal convolutional network (TCN), as used by BAMS.

Layout follows the BAMS reference (itself adapted from locuslab/TCN): a stack of residual
blocks; block ``i`` has two dilated causal ``Conv1d`` layers with dilation ``base**i``,
each followed by PReLU (init 0.1) and dropout; the second conv is weight-normalised; a 1x1
conv maps the residual when the channel count changes; a PReLU follows the residual sum.

Causality: every conv is left-padded by ``(kernel - 1) * dilation`` frames (the reference pads
both sides and chomps the right end, which is equivalent), so output frame ``t`` depends on
input frames ``<= t`` only.

Initialisation (as the reference behaves, not only as it reads): ``conv1`` and the residual 1x1
conv are drawn from normal(0, 0.01). The reference also calls ``normal_(0, 0.01)`` on the
weight-normed ``conv2.weight``, but with ``torch.nn.utils.weight_norm`` that tensor is recomputed
from ``weight_g``/``weight_v`` at every forward, so the call has no effect and ``conv2`` keeps
PyTorch's default init with ``g = ||v||``. We reproduce that effective behaviour.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


class CausalConv1d(nn.Module):
    """Dilated 1-D convolution with left padding only. Input/output (B, C, L)."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        self.left_pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(c_in, c_out, kernel_size, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.pad(x, (self.left_pad, 0)))


class TemporalBlock(nn.Module):
    """Residual block of two causal dilated convs. (B, c_in, L) -> (B, c_out, L)."""

    def __init__(
        self, c_in: int, c_out: int, kernel_size: int, dilation: int, dropout: float
    ) -> None:
        super().__init__()
        self.conv1 = CausalConv1d(c_in, c_out, kernel_size, dilation)
        self.act1 = nn.PReLU(init=0.1)
        self.drop1 = nn.Dropout(dropout)
        self.conv2 = CausalConv1d(c_out, c_out, kernel_size, dilation)
        self.act2 = nn.PReLU(init=0.1)
        self.drop2 = nn.Dropout(dropout)
        self.downsample = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else None
        self.act_out = nn.PReLU(init=0.1)
        with torch.no_grad():
            self.conv1.conv.weight.normal_(0.0, 0.01)
            if self.downsample is not None:
                self.downsample.weight.normal_(0.0, 0.01)
        # weight norm after init (see module docstring for why conv2 keeps the default init)
        self.conv2.conv = weight_norm(self.conv2.conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.drop1(self.act1(self.conv1(x)))
        out = self.drop2(self.act2(self.conv2(out)))
        res = x if self.downsample is None else self.downsample(x)
        return self.act_out(out + res)


class TemporalConvNet(nn.Module):
    """Stack of :class:`TemporalBlock`; level ``i`` has dilation ``dilation_base**i``.

    Input (B, L, F) float, output (B, L, channels[-1]) (time-major, like the reference).
    """

    def __init__(
        self,
        num_inputs: int,
        channels: Sequence[int],
        kernel_size: int = 3,
        dilation_base: int = 2,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        self.channels = tuple(int(c) for c in channels)
        self.kernel_size = int(kernel_size)
        self.dilation_base = int(dilation_base)
        blocks = []
        for i, c_out in enumerate(self.channels):
            c_in = num_inputs if i == 0 else self.channels[i - 1]
            blocks.append(
                TemporalBlock(c_in, c_out, self.kernel_size, self.dilation_base**i, dropout)
            )
        self.network = nn.Sequential(*blocks)

    @property
    def out_dim(self) -> int:
        return self.channels[-1]

    @property
    def receptive_field(self) -> int:
        """Frames of input that output frame t depends on (t itself included)."""
        return receptive_field(self.kernel_size, len(self.channels), self.dilation_base)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x.transpose(1, 2)).transpose(1, 2)


def receptive_field(
    kernel_size: int, num_blocks: int, dilation_base: int, convs_per_block: int = 2
) -> int:
    """Receptive field (frames) of a causal TCN: ``1 + sum_i convs*(k-1)*base**i``.

    Each causal conv with kernel k and dilation d extends the past context by (k-1)*d frames.
    E.g. k=3, 4 blocks, base 2 -> 1 + 2*2*(1+2+4+8) = 61; 5 blocks, base 4 -> 1 + 4*341 = 1365.
    """
    return 1 + sum(
        convs_per_block * (kernel_size - 1) * dilation_base**i for i in range(num_blocks)
    )

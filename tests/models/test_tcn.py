"""TCN: causality and receptive fields, measured from gradients and checked against the formula."""

from __future__ import annotations

import pytest
import torch

from behaviorbench.models.bams import BAMSConfig, BAMSNetwork
from behaviorbench.models.tcn import TemporalConvNet, receptive_field


def measured_receptive_field(net: torch.nn.Module, n_inputs: int, length: int) -> tuple[int, int]:
    """(first, last) input frames whose gradient reaches the output at the last frame."""
    net.eval()
    x = torch.randn(1, length, n_inputs, dtype=torch.float64, requires_grad=True)
    net.double()
    net(x)[0, -1].sum().backward()
    touched = (x.grad[0].abs().sum(-1) > 0).nonzero().flatten()
    return int(touched.min()), int(touched.max())


@pytest.mark.parametrize(
    ("channels", "base", "expected"),
    [((64, 64, 32, 32), 2, 61), ((64, 64, 64, 32, 32), 4, 1365)],
)
def test_receptive_field_matches_architecture(channels, base, expected):
    torch.manual_seed(0)
    net = TemporalConvNet(5, channels, kernel_size=3, dilation_base=base, dropout=0.2)
    # 1 + 2 convs * (k-1) * sum(base**i): 1 + 4*(1+2+4+8) = 61 ; 1 + 4*(1+4+16+64+256) = 1365
    assert net.receptive_field == expected == receptive_field(3, len(channels), base)
    length = expected + 40
    first, last = measured_receptive_field(net, 5, length)
    assert last == length - 1  # depends on the current frame ...
    assert last - first + 1 == expected  # ... and exactly `expected` frames back


def test_bams_default_receptive_fields():
    net = BAMSNetwork(24, 12, BAMSConfig())
    assert {k: e.receptive_field for k, e in net.encoders.items()} == {"short": 61, "long": 1365}


def test_tcn_is_causal_in_train_and_eval_mode():
    torch.manual_seed(0)
    net = TemporalConvNet(3, (8, 8, 4), kernel_size=3, dilation_base=2, dropout=0.0)
    x = torch.randn(2, 50, 3)
    y = x.clone()
    y[:, 30:] = torch.randn(2, 20, 3) * 10
    for mode in (net.train, net.eval):
        mode()
        a, b = net(x), net(y)
        assert torch.equal(a[:, :30], b[:, :30])
        assert not torch.allclose(a[:, 30:], b[:, 30:])


def test_block_structure_and_init():
    net = TemporalConvNet(10, (64, 32), kernel_size=3, dilation_base=2)
    b0, b1 = net.network
    assert b0.conv1.conv.dilation == (1,) and b1.conv1.conv.dilation == (2,)
    assert b0.downsample is not None and b1.downsample is not None  # 10->64, 64->32
    assert TemporalConvNet(8, (8, 8)).network[1].downsample is None
    assert abs(float(b0.act1.weight.detach()) - 0.1) < 1e-7
    assert 0.005 < float(b0.conv1.conv.weight.detach().std()) < 0.015  # normal(0, 0.01)
    assert hasattr(b0.conv2.conv, "parametrizations")  # weight-normed second conv

"""The default (fast) BAMS step trains to the same losses as the plain eager step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from behaviorbench.models import BAMS
from behaviorbench.models.hoa import hoa_loss, squared_emd, squared_emd_matmul

from .synthetic import regime_sinusoids

TINY = {"short_channels": (8, 8), "long_channels": (8, 8), "predictor_hidden": (16, 16),
        "batch_size": 4, "progress": False, "seed": 3, "hoa_skip_frames": 40}


def _losses(x: np.ndarray, steps: int, **overrides) -> tuple[np.ndarray, BAMS]:
    """Per-step total loss of ``steps`` optimiser steps (dropout on, as in training)."""
    model = BAMS(**{**TINY, **overrides})
    trainer = model.make_trainer(model.prepare(x, None))
    return np.array(trainer.step_losses(steps)), model


@pytest.mark.parametrize("hoa_target", ["paper", "reference-code"])
def test_fast_step_matches_the_eager_step_for_20_steps(hoa_target):
    torch.set_num_threads(2)
    x = regime_sinusoids(n=8, t_len=120, seed=4)[0]
    eager, m_eager = _losses(x, 20, fast_step=False, hoa_target=hoa_target)
    fast, m_fast = _losses(x, 20, fast_step=True, hoa_target=hoa_target)
    assert eager[-1] < eager[0]  # it trains: the comparison is not between constants
    rel = np.abs(fast - eager) / np.abs(eager)
    assert rel.max() < 1e-5, rel
    for (name, a), b in zip(m_eager.network.state_dict().items(),
                            m_fast.network.state_dict().values(), strict=True):
        assert torch.allclose(a.float(), b.float(), rtol=1e-3, atol=1e-5), name


def test_fast_step_runs_the_hoa_head_on_weighted_frames_only():
    x = regime_sinusoids(n=4, t_len=120, seed=1)[0]
    model = BAMS(**TINY)
    data = model.prepare(x, None)
    seen = []
    hook = model.network.predictor.register_forward_hook(lambda m, i, o: seen.append(i[0].shape))
    trainer = model.make_trainer(data)
    trainer.train_step(torch.arange(4))
    hook.remove()
    assert seen == [torch.Size([4, 120 - 40, model.network.representation_size + 24])]


def test_matmul_emd_equals_cumsum_emd():
    g = torch.Generator().manual_seed(0)
    target = torch.softmax(torch.randn(5, 7, 3, 32, generator=g), -1)
    prob = torch.softmax(torch.randn(5, 7, 3, 32, generator=g), -1)
    a, b = squared_emd(target, prob), squared_emd_matmul(target, prob)
    assert a.shape == b.shape == (5, 7, 3)
    torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-8)
    # the loss over frames skip.. equals the loss with the first skip frames weighted 0
    logits, w = torch.randn(5, 7, 3, 32, generator=g), torch.rand(5, 7, generator=g)
    full = hoa_loss(logits, target, w, skip_frames=3)
    sliced = hoa_loss(logits[:, 3:], target[:, 3:], w[:, 3:], skip_frames=0, matmul_cumsum=True)
    torch.testing.assert_close(sliced, full, rtol=1e-5, atol=0)

"""BAMS: shapes, causality, training signal on structured data, save/load, faithful settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from behaviorbench.models import BAMS, BAMSConfig, get_model, load_model
from behaviorbench.models.bams import BAMSNetwork, sample_bootstrap_indices, target_indices
from behaviorbench.models.training import StepContext

from .synthetic import regime_sinusoids


@pytest.fixture(scope="module")
def data():
    return regime_sinusoids(n=8, t_len=250, seed=0)[0]


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    torch.set_num_threads(2)
    log = tmp_path_factory.mktemp("bams") / "log.jsonl"
    return BAMS(epochs=12, batch_size=8, progress=False, log_path=str(log)).fit(data)


def test_loss_falls_on_regime_switching_sinusoids(trained):
    hist = trained.history
    assert len(hist) == 12
    first, last = hist[0], hist[-1]
    assert last["hoa"] < 0.85 * first["hoa"], (first, last)
    assert last["loss"] < 0.85 * first["loss"]
    assert last["short"] < first["short"] and last["long"] < first["long"]
    lines = open(trained.config.log_path).read().strip().splitlines()
    assert len(lines) == 12 and '"hoa"' in lines[0]


def test_shapes_dtype_and_parameters(trained, data):
    z = trained.embed(data[:3])
    assert z.shape == (3, data.shape[1], 64) and z.dtype == np.float32
    assert trained.embed(data[0]).shape == (1, data.shape[1], 64)  # (T, F) accepted
    net = trained.network
    assert trained.n_parameters == sum(p.numel() for p in net.parameters()) > 0
    assert net.predictor[0].in_features == 64 + 24
    assert net.predictor[-1].out_features == 12 * 32
    widths = [m.out_features for m in net.predictor if isinstance(m, torch.nn.Linear)]
    assert widths == [256, 512, 512, 12 * 32]
    byol = net.byol_predictors["short"]
    assert byol[0].bias is None and byol[0].out_features == 4 * 32
    assert isinstance(byol[1], torch.nn.BatchNorm1d)


def test_embedding_is_causal(trained, data):
    x = data[:2].copy()
    z = trained.embed(x)
    t = 137
    x[:, t + 1 :] = np.random.default_rng(0).normal(size=x[:, t + 1 :].shape) * 5
    z2 = trained.embed(x)
    np.testing.assert_array_equal(z[:, : t + 1], z2[:, : t + 1])
    assert np.abs(z[:, t + 1 :] - z2[:, t + 1 :]).max() > 1e-4


def test_save_load_identical(trained, data, tmp_path):
    path = trained.save(tmp_path / "bams.pt")
    for loaded in (BAMS.load(path), load_model(path)):
        assert isinstance(loaded, BAMS)
        np.testing.assert_array_equal(loaded.embed(data), trained.embed(data))
        assert loaded.n_parameters == trained.n_parameters


def test_default_targets_are_joint_velocities():
    cfg = BAMSConfig()
    assert target_indices(cfg, 24) == list(range(12, 24))
    assert target_indices(cfg, 7) == list(range(7))
    assert target_indices(BAMSConfig(target_features=(0, 3)), 24) == [0, 3]


def test_reference_hyperparameters():
    c = BAMSConfig()
    assert (c.short_channels, c.long_channels) == ((64, 64, 32, 32), (64, 64, 64, 32, 32))
    assert (c.short_kernel, c.short_dilation, c.long_kernel, c.long_dilation) == (3, 2, 3, 4)
    assert (c.hoa_bins, c.hoa_window, c.hoa_skip_frames) == (32, 30, 100)
    assert (c.hoa_weight, c.short_weight, c.long_weight) == (500, 0.5, 0.5)
    assert (c.lr, c.predictor_lr_mult, c.weight_decay) == (1e-3, 10, 4e-5)
    assert (c.lr_milestones, c.lr_gamma) == ((200,), 0.1)
    ref = BAMSConfig.reference(seed=3)
    assert (ref.epochs, ref.batch_size, ref.seed) == (500, 32, 3)
    # the default schedule is sized for the small default dataset on a CPU (README results)
    assert (c.epochs, c.batch_size) == (100, 8)
    m = BAMS(epochs=1)
    data = m.prepare(regime_sinusoids(2, 120)[0], None)
    trainer = m.make_trainer(data)
    lrs = [g["lr"] for g in trainer.optimizer.param_groups]
    assert lrs == [1e-3, 1e-2]
    assert type(trainer.optimizer).__name__ == "AdamW"
    n_byol = sum(p.numel() for p in m.network.byol_predictors.parameters())
    assert sum(p.numel() for p in trainer.optimizer.param_groups[1]["params"]) == n_byol


def test_bootstrap_sampling_ranges():
    cfg = BAMSConfig()
    ctx = StepContext(0, 0, 1, 4096, torch.arange(4096), seed=0)
    t1, t2, u1, u2 = sample_bootstrap_indices(ctx, 1000, cfg)
    assert t1.min() >= 60 and t1.max() < 1000 - 5
    d = t2 - t1
    assert d.min() == 0 and d.max() == 5
    assert u1.min() >= 100 and u2.min() >= 100 and max(u1.max(), u2.max()) == 999
    assert (u1 != u2).float().mean() > 0.9  # independent positions in the same sequence


def test_input_normalisation_is_max_abs(data):
    m = BAMS(epochs=1)
    prepared = m.prepare(data, None)
    np.testing.assert_allclose(m.scaler_.scale, np.abs(data).max(axis=(0, 1)), rtol=1e-6)
    assert float(prepared["x"].abs().max()) == pytest.approx(1.0)


def test_random_tcn_is_untrained_bams(data):
    a = get_model("random-tcn", seed=3).fit(data)
    b = get_model("random-tcn", seed=3).fit(data)
    np.testing.assert_array_equal(a.embed(data[:1]), b.embed(data[:1]))
    torch.manual_seed(3)
    fresh = BAMSNetwork(24, 12, a.config)
    for (k, v), w in zip(a.network.state_dict().items(), fresh.state_dict().values(), strict=True):
        assert torch.equal(v, w), k

"""BAMS: Bootstrap Across Multiple Scales (Azabou et al., arXiv 2303.08811), re-implemented.

Network (``BAMSNetwork``): two causal TCN encoders on the normalised input (B, L, F):
``short`` (channels (64, 64, 32, 32), kernel 3, dilation 2**i) and ``long`` (channels
(64, 64, 64, 32, 32), kernel 3, dilation 4**i); the per-frame representation is
``concat(short, long)`` (32 + 32 = 64 dims). An MLP on ``concat(embeddings, input)`` with hidden
sizes (256, 512, 512) and PReLU predicts ``n_targets x 32`` HoA logits; per-space BYOL predictors
``Linear(d, 4d, bias=False) -> BatchNorm1d -> ReLU -> Linear(4d, d)``.

Loss (``bams_loss``): ``500 * HoA + 0.5 * short + 0.5 * long`` where HoA is the weighted squared
EMD (``hoa.py``, first 100 frames ignored), ``short`` = 1 - cos(pred_short(t1), sg(short(t2)))
with t1 in [60, L-5), t2 = t1 + U{0..5}, and ``long`` = the same on the long space with t1, t2
independent and uniform in [100, L). No EMA target: stop-gradient plus a predictor learning rate
10x the base (AdamW lr 1e-3 / 1e-2, wd 4e-5, MultiStepLR milestone 200 x 0.1). The reference
trains 500 epochs of batch 32 sequences; our defaults are 100 epochs of batch 8, sized for the
small default dataset on a CPU (see ``BAMSConfig``; ``BAMSConfig.reference()`` restores 500/32).

Normalisation (reference): inputs divided per feature by max |x| over the training data (kept
and reused by ``embed``). HoA targets are binned on the raw values of ``target_features``;
for the quadruped data (F = 24: 12 joint positions then 12 joint velocities) they default to
the 12 joint velocities (indices 12..23), the robots' "actions"; otherwise all features.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .base import Estimator, MaxAbsScaler
from .hoa import Quantizer, histogram_counts, hoa_loss, reference_code_counts
from .tcn import TemporalConvNet
from .training import StepContext, Trainer, TrainingConfig

QUADRUPED_FEATURES = 24  # dof_pos (12) then dof_vel (12), see docs/architecture.md
QUADRUPED_VELOCITY_SLICE = slice(12, 24)
#: "paper": the HoA target of the paper's text; "reference-code": the released code's (hoa.py)
HOA_TARGETS = ("paper", "reference-code")


@dataclass
class BAMSConfig(TrainingConfig):
    """BAMS hyper-parameters.

    Architecture, objectives and optimiser are the reference's mouse-triplet settings. The
    schedule is not: the reference trains 500 epochs of batch 32 (``BAMSConfig.reference()``),
    which on the small default dataset (88 sequences of 500 frames) is ~2000 optimiser steps and
    ~40 min per seed on 2 CPU cores. Defaults here are 100 epochs of batch 8 (~1100 steps,
    ~8 min per seed): with the reference batch of 32 the same time gives 4x fewer steps and an
    almost constant embedding. Measurements: README "Representation quality".
    """

    epochs: int = 100  # passes over the training sequences (reference: 500)
    batch_size: int = 8  # sequences per optimiser step (global; reference: 32)
    short_channels: tuple[int, ...] = (64, 64, 32, 32)  # output channels per TCN level
    short_kernel: int = 3  # conv kernel (frames)
    short_dilation: int = 2  # level i dilation = short_dilation**i
    long_channels: tuple[int, ...] = (64, 64, 64, 32, 32)
    long_kernel: int = 3  # frames
    long_dilation: int = 4  # level i dilation = long_dilation**i
    dropout: float = 0.2  # dropout probability in the TCN blocks
    predictor_hidden: tuple[int, ...] = (256, 512, 512)  # HoA MLP hidden widths
    hoa_bins: int = 32  # histogram bins per target feature
    hoa_window: int = 30  # future frames in each histogram (frames; 0.6 s at 50 Hz)
    hoa_skip_frames: int = 100  # first frames of each sequence left out of the HoA loss
    hoa_low_percentile: float = 0.5  # % ; lower bin edge percentile of |x| > hoa_min_abs values
    hoa_high_percentile: float = 99.5  # % ; upper bin edge percentile
    hoa_min_abs: float = 0.1  # target units (rad/s for joint velocities); binning threshold
    target_features: tuple[int, ...] | None = None  # None: 12..23 if F == 24 else all features
    short_skip_frames: int = 60  # short-term bootstrap: t1 >= this (frames)
    short_delta: int = 5  # short-term bootstrap: t2 - t1 in [0, short_delta] (frames)
    long_skip_frames: int = 100  # long-term bootstrap: t1, t2 >= this (frames)
    hoa_target: str = "paper"  # "paper": frames t+1..t+window | "reference-code" (docs/models.md)
    hoa_weight: float = 500.0  # loss weight of the HoA term
    short_weight: float = 0.5  # loss weight of the short-term bootstrap term
    long_weight: float = 0.5  # loss weight of the long-term bootstrap term
    predictor_lr_mult: float = 10.0  # BYOL predictors' lr = lr * this
    embed_batch_size: int = 16  # sequences per forward pass in embed()
    fast_step: bool = True  # HoA head on loss-weighted frames only, EMD cumsum as a matmul:
    #   the plain step's loss within 1e-5 (relative); False: the plain (reference) step
    train: bool = True  # False: fit only the normalisation (random-tcn baseline)

    def problems(self) -> list[str]:
        """Invalid settings, one phrase each (training fields included)."""
        from .validation import all_at_least, at_least, in_range, positive

        out = super().problems()
        for space in ("short", "long"):
            out += all_at_least(f"{space}_channels", getattr(self, f"{space}_channels"), 1)
            out += at_least(f"{space}_kernel", getattr(self, f"{space}_kernel"), 1)
            out += at_least(f"{space}_dilation", getattr(self, f"{space}_dilation"), 1)
        out += in_range("dropout", self.dropout, 0, 1, high_open=True)
        out += all_at_least("predictor_hidden", self.predictor_hidden, 1, allow_empty=True)
        out += at_least("hoa_bins", self.hoa_bins, 2) + at_least("hoa_window", self.hoa_window, 1)
        for name in ("hoa_skip_frames", "short_skip_frames", "short_delta", "long_skip_frames",
                     "hoa_min_abs", "hoa_weight", "short_weight", "long_weight"):
            out += at_least(name, getattr(self, name), 0)
        out += in_range("hoa_low_percentile", self.hoa_low_percentile, 0, 100)
        out += in_range("hoa_high_percentile", self.hoa_high_percentile, 0, 100)
        if not self.hoa_low_percentile < self.hoa_high_percentile:
            out.append(f"hoa_low_percentile {self.hoa_low_percentile!r} must be below "
                       f"hoa_high_percentile {self.hoa_high_percentile!r}")
        out += positive("predictor_lr_mult", self.predictor_lr_mult)
        if self.hoa_target not in HOA_TARGETS:
            out.append(f"hoa_target must be one of {', '.join(HOA_TARGETS)}, got "
                       f"{self.hoa_target!r}")
        if self.target_features is not None:
            out += all_at_least("target_features", self.target_features, 0)
        return out

    @classmethod
    def reference(cls, **overrides) -> BAMSConfig:
        """The reference's full schedule: 500 epochs of 32 sequences (lr x0.1 at epoch 200)."""
        return cls(**{"epochs": 500, "batch_size": 32, **overrides})


class BAMSNetwork(nn.Module):
    """Encoders + HoA predictor + BYOL predictors. forward: (B, L, F) -> (embs, logits, preds)."""

    def __init__(self, input_size: int, n_targets: int, cfg: BAMSConfig) -> None:
        super().__init__()
        self.input_size, self.n_targets, self.bins = input_size, n_targets, cfg.hoa_bins
        self.encoders = nn.ModuleDict(
            {
                "short": TemporalConvNet(
                    input_size,
                    cfg.short_channels,
                    cfg.short_kernel,
                    cfg.short_dilation,
                    cfg.dropout,
                ),
                "long": TemporalConvNet(
                    input_size,
                    cfg.long_channels,
                    cfg.long_kernel,
                    cfg.long_dilation,
                    cfg.dropout,
                ),
            }
        )
        self.representation_size = sum(e.out_dim for e in self.encoders.values())
        widths = (self.representation_size + input_size, *cfg.predictor_hidden)
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(a, b), nn.PReLU(1)]
        layers.append(nn.Linear(widths[-1], n_targets * cfg.hoa_bins))
        self.predictor = nn.Sequential(*layers)
        self.byol_predictors = nn.ModuleDict(
            {
                name: nn.Sequential(
                    nn.Linear(e.out_dim, 4 * e.out_dim, bias=False),
                    nn.BatchNorm1d(4 * e.out_dim, eps=1e-5, momentum=0.1),
                    nn.ReLU(inplace=True),
                    nn.Linear(4 * e.out_dim, e.out_dim),
                )
                for name, e in self.encoders.items()
            }
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, F) -> (B, L, representation_size) = concat(short, long)."""
        return torch.cat([enc(x) for enc in self.encoders.values()], dim=-1)

    def forward(self, x: torch.Tensor, hoa_start: int = 0):
        """x (B, L, F) -> embs {space: (B, L, d)}, logits (B, L - hoa_start, n_targets, bins),
        preds {space: (B, L, d)}. The HoA predictor sees frames ``hoa_start..L-1`` only."""
        embs: OrderedDict[str, torch.Tensor] = OrderedDict()
        preds: OrderedDict[str, torch.Tensor] = OrderedDict()
        for name, enc in self.encoders.items():
            e = enc(x)
            embs[name] = e
            preds[name] = self.byol_predictors[name](e.flatten(0, 1)).reshape(e.shape)
        h = torch.cat([*embs.values(), x], dim=-1)[:, hoa_start:]
        logits = self.predictor(h).unflatten(-1, (self.n_targets, self.bins))
        return embs, logits, preds


def _cosine_bootstrap(pred: torch.Tensor, emb: torch.Tensor, t1, t2) -> torch.Tensor:
    """1 - mean cos(pred[b, t1[b]], stopgrad(emb[b, t2[b]]))."""
    ar = torch.arange(pred.shape[0], device=pred.device)
    v1 = pred[ar, t1.to(pred.device)].float()
    v2 = emb[ar, t2.to(pred.device)].detach().float()
    return 1.0 - F.cosine_similarity(v1, v2, dim=-1).mean()


def sample_bootstrap_indices(
    ctx: StepContext, length: int, cfg: BAMSConfig
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Frame indices (this rank's rows) for the short and long bootstrap pairs.

    Drawn for the whole global batch from a (seed, step) generator, so DDP ranks use the same
    draws as a single process would. Skips shrink for sequences too short for the defaults.
    """
    g, n = ctx.generator(), ctx.global_batch
    delta = min(cfg.short_delta, length - 1)
    s_skip = min(cfg.short_skip_frames, max(0, length - delta - 1))
    t1 = torch.randint(length - s_skip - delta, (n,), generator=g) + s_skip
    t2 = (t1 + torch.randint(delta + 1, (n,), generator=g)).clamp(max=length - 1)
    l_skip = min(cfg.long_skip_frames, length - 1)
    u1 = torch.randint(length - l_skip, (n,), generator=g) + l_skip
    u2 = torch.randint(length - l_skip, (n,), generator=g) + l_skip
    p = ctx.local_positions
    return t1[p], t2[p], u1[p], u2[p]


def bams_loss(
    module: nn.Module, batch: dict, ctx: StepContext, cfg: BAMSConfig
) -> tuple[torch.Tensor, dict]:
    """Total BAMS loss on a batch {"x": (B,L,F), "counts": (B,L,Ft,bins) u8, "weights": (B,L)}.

    ``cfg.fast_step`` (default) runs the HoA predictor only on frames ``skip..L-1`` (the first
    ``skip`` have loss weight 0) and takes the EMD's cumulative sums as a matmul; the plain step
    (``fast_step=False``) runs it on every frame with ``torch.cumsum``. Same loss up to float
    rounding (docs/models.md, "Training speed"). Dropout draws are identical in both.
    """
    x = batch["x"]
    length = x.shape[1]
    skip = min(cfg.hoa_skip_frames, length // 2)
    reference_code = cfg.hoa_target == "reference-code"  # its weights reach the first frames
    start = skip if cfg.fast_step and not reference_code else 0
    embs, logits, preds = module(x, hoa_start=start)
    target = batch["counts"][:, start:].float() / cfg.hoa_window
    l_hoa = hoa_loss(logits, target, batch["weights"][:, start:], skip_frames=skip - start,
                     reference_code=reference_code, matmul_cumsum=cfg.fast_step)
    t1, t2, u1, u2 = sample_bootstrap_indices(ctx, length, cfg)
    l_short = _cosine_bootstrap(preds["short"], embs["short"], t1, t2)
    l_long = _cosine_bootstrap(preds["long"], embs["long"], u1, u2)
    loss = cfg.hoa_weight * l_hoa + cfg.short_weight * l_short + cfg.long_weight * l_long
    return loss, {"hoa": l_hoa.detach(), "short": l_short.detach(), "long": l_long.detach()}


def target_indices(cfg: BAMSConfig, n_features: int) -> list[int]:
    if cfg.target_features is not None:
        return [int(i) for i in cfg.target_features]
    if n_features == QUADRUPED_FEATURES:
        return list(range(n_features))[QUADRUPED_VELOCITY_SLICE]
    return list(range(n_features))


class BAMS(Estimator):
    """BAMS estimator: ``fit`` trains, ``embed`` returns concat(short, long) (N, T, 64)."""

    name = "bams"
    config_class = BAMSConfig
    #: which slice of the representation ``embed`` returns: "both" | "short" | "long"
    space = "both"

    def __init__(self, config: BAMSConfig | None = None, **overrides) -> None:
        super().__init__(config, **overrides)
        self.network: BAMSNetwork | None = None
        self.history: list[dict] = []

    # --- preparation (shared with the benchmark and tests) ------------------------------
    def prepare(self, x: np.ndarray, valid: np.ndarray | None) -> dict[str, torch.Tensor]:
        """Fit normalisation + bins, build the network, precompute HoA targets once.

        Returns the per-sequence training tensors {"x", "counts", "weights"}.
        """
        cfg = self.config
        if valid is None:
            valid = np.isfinite(x).all(axis=-1)
        self.scaler_ = MaxAbsScaler.fit(x, valid)
        self.targets_ = target_indices(cfg, x.shape[-1])
        raw_t = x[..., self.targets_]
        self.quantizer_ = Quantizer.fit(
            raw_t,
            valid,
            cfg.hoa_bins,
            cfg.hoa_low_percentile,
            cfg.hoa_high_percentile,
            cfg.hoa_min_abs,
        )
        q = self.quantizer_.quantize(raw_t)
        counts, weights = histogram_counts(q, valid, cfg.hoa_bins, cfg.hoa_window)
        if cfg.hoa_target == "reference-code":
            counts = reference_code_counts(q, cfg.hoa_bins, cfg.hoa_window)
        torch.manual_seed(cfg.seed)
        self.network = BAMSNetwork(x.shape[-1], len(self.targets_), cfg)
        return {
            "x": torch.from_numpy(self.scaler_.transform(x)),
            "counts": torch.from_numpy(counts),
            "weights": torch.from_numpy(weights),
        }

    def make_trainer(self, data: dict[str, torch.Tensor]) -> Trainer:
        cfg = self.config
        net = self.network
        main = [p for n, p in net.named_parameters() if not n.startswith("byol_predictors.")]
        byol = list(net.byol_predictors.parameters())
        groups = [{"params": main}, {"params": byol, "lr": cfg.lr * cfg.predictor_lr_mult}]
        return Trainer(
            module=net,
            loss_fn=lambda m, b, c: bams_loss(m, b, c, cfg),
            data=data,
            param_groups=groups,
            config=cfg,
            frames_per_sequence=int(data["x"].shape[1]),
        )

    def _fit(self, x: np.ndarray, valid: np.ndarray | None) -> None:
        data = self.prepare(x, valid)
        if self.config.train:
            trainer = self.make_trainer(data)
            self.history = trainer.fit()
        self.network.cpu().eval()

    # --- inference -----------------------------------------------------------------------
    @torch.no_grad()
    def representation(self, x: np.ndarray, device: str | None = None) -> np.ndarray:
        """Full (N, T, 64) concat(short, long) of raw features ``x`` (fp32, eval mode)."""
        net = self.network.eval()
        dev = next(net.parameters()).device if device is None else torch.device(device)
        net.to(dev)
        xn = torch.from_numpy(self.scaler_.transform(x))
        out = []
        for s in range(0, xn.shape[0], self.config.embed_batch_size):
            out.append(net.encode(xn[s : s + self.config.embed_batch_size].to(dev)).cpu())
        return torch.cat(out).numpy()

    def _embed(self, x: np.ndarray) -> np.ndarray:
        z = self.representation(x)
        d_short = self.network.encoders["short"].out_dim
        if self.space == "short":
            return z[..., :d_short]
        if self.space == "long":
            return z[..., d_short:]
        return z

    @property
    def embedding_dim(self) -> int:
        d_short = self.config.short_channels[-1]
        d_long = self.config.long_channels[-1]
        return {"both": d_short + d_long, "short": d_short, "long": d_long}[self.space]

    @property
    def n_parameters(self) -> int:
        """Trainable parameters of the whole network (encoders + HoA and BYOL predictors)."""
        return 0 if self.network is None else sum(p.numel() for p in self.network.parameters())

    @property
    def receptive_fields(self) -> dict[str, int]:
        """Receptive field (frames) of each encoder."""
        return {k: e.receptive_field for k, e in self.network.encoders.items()}

    # --- persistence ---------------------------------------------------------------------
    def _get_state(self) -> dict:
        return {
            "network": self.network.state_dict(),
            "input_size": self.network.input_size,
            "targets": list(self.targets_),
            "input_scale": self.scaler_.scale,
            "edges": self.quantizer_.edges,
            "target_scale": self.quantizer_.scale,
        }

    def _set_state(self, state: dict) -> None:
        self.targets_ = [int(i) for i in state["targets"]]
        self.scaler_ = MaxAbsScaler(scale=state["input_scale"].numpy())
        self.quantizer_ = Quantizer(state["edges"].numpy(), state["target_scale"].numpy())
        self.network = BAMSNetwork(int(state["input_size"]), len(self.targets_), self.config)
        self.network.load_state_dict(state["network"])
        self.network.eval()

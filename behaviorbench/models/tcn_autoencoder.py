"""Self-supervised non-BAMS peer: a causal TCN autoencoder of the recent past.

Encoder: one causal dilated TCN (default channels (64, 64, 64, 64), kernel 3, dilation 2**i,
receptive field 61 frames) on the max-|x|-normalised input, giving z_t (64 dims). Decoder: an
MLP that reconstructs the clean past window ``[x_t, x_{t-1}, ..., x_{t-W+1}]`` (W = 16 frames,
W*F = 384 numbers for the quadruped data, so the 64-dim code is a real bottleneck) from z_t,
with Gaussian noise added to the encoder input (denoising). Loss: mean squared error over the
reconstructed frames that exist (t-k >= 0) and are valid. ``embed`` returns z_t (eval mode).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .base import Estimator, MaxAbsScaler
from .tcn import TemporalConvNet
from .training import StepContext, Trainer, TrainingConfig


@dataclass
class TCNAutoencoderConfig(TrainingConfig):
    epochs: int = 100  # passes over the training sequences
    lr_milestones: tuple[int, ...] = (80,)  # epochs at which lr *= lr_gamma
    channels: tuple[int, ...] = (64, 64, 64, 64)  # encoder channels per level; last = D
    kernel: int = 3  # frames
    dilation: int = 2  # level i dilation = dilation**i
    dropout: float = 0.1  # TCN dropout probability
    window: int = 16  # past frames reconstructed from z_t (frames)
    decoder_hidden: int = 256  # decoder MLP width
    noise_std: float = 0.05  # std of Gaussian noise on the normalised encoder input
    embed_batch_size: int = 16  # sequences per forward pass in embed()

    def problems(self) -> list[str]:
        """Invalid settings, one phrase each (training fields included)."""
        from .validation import all_at_least, at_least, in_range

        out = super().problems() + all_at_least("channels", self.channels, 1)
        out += at_least("kernel", self.kernel, 1) + at_least("dilation", self.dilation, 1)
        out += in_range("dropout", self.dropout, 0, 1, high_open=True)
        out += at_least("window", self.window, 1)
        out += at_least("decoder_hidden", self.decoder_hidden, 1)
        return out + at_least("noise_std", self.noise_std, 0)


class TCNAutoencoderNetwork(nn.Module):
    def __init__(self, input_size: int, cfg: TCNAutoencoderConfig) -> None:
        super().__init__()
        self.input_size, self.window = input_size, cfg.window
        self.encoder = TemporalConvNet(
            input_size, cfg.channels, cfg.kernel, cfg.dilation, cfg.dropout
        )
        self.decoder = nn.Sequential(
            nn.Linear(self.encoder.out_dim, cfg.decoder_hidden),
            nn.PReLU(1),
            nn.Linear(cfg.decoder_hidden, cfg.window * input_size),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        rec = self.decoder(z).unflatten(-1, (self.window, self.input_size))
        return z, rec  # (B, L, D), (B, L, W, F)


def past_windows(x: torch.Tensor, valid: torch.Tensor, window: int):
    """Targets (B, L, W, F) with [t, k] = x[t-k] and mask (B, L, W) (t-k >= 0 and valid)."""
    b, length, f = x.shape
    xp = torch.cat([x.new_zeros(b, window - 1, f), x], dim=1)
    vp = torch.cat([valid.new_zeros(b, window - 1), valid], dim=1)
    idx = (
        torch.arange(length, device=x.device)[:, None]
        + (window - 1)
        - torch.arange(window, device=x.device)
    )
    return xp[:, idx], vp[:, idx]


def autoencoder_loss(module, batch: dict, ctx: StepContext, cfg: TCNAutoencoderConfig):
    x, valid = batch["x"], batch["valid"]
    g = ctx.generator()
    noise = torch.randn((ctx.global_batch, *x.shape[1:]), generator=g)[ctx.local_positions]
    _, rec = module(x + cfg.noise_std * noise.to(x.device))
    target, mask = past_windows(x, valid, cfg.window)
    err = (rec.float() - target).square().mean(-1)  # (B, L, W)
    m = mask.float()
    loss = (err * m).sum() / m.sum().clamp_min(1.0)
    return loss, {"mse": loss.detach()}


class TCNAutoencoder(Estimator):
    name = "tcn-autoencoder"
    config_class = TCNAutoencoderConfig

    def __init__(self, config: TCNAutoencoderConfig | None = None, **overrides) -> None:
        super().__init__(config, **overrides)
        self.network: TCNAutoencoderNetwork | None = None
        self.history: list[dict] = []

    def _fit(self, x: np.ndarray, valid: np.ndarray | None) -> None:
        cfg = self.config
        if valid is None:
            valid = np.isfinite(x).all(axis=-1)
        self.scaler_ = MaxAbsScaler.fit(x, valid)
        torch.manual_seed(cfg.seed)
        self.network = TCNAutoencoderNetwork(x.shape[-1], cfg)
        data = {"x": torch.from_numpy(self.scaler_.transform(x)), "valid": torch.from_numpy(valid)}
        trainer = Trainer(
            module=self.network,
            loss_fn=lambda m, b, c: autoencoder_loss(m, b, c, cfg),
            data=data,
            param_groups=[{"params": list(self.network.parameters())}],
            config=cfg,
            frames_per_sequence=x.shape[1],
        )
        self.history = trainer.fit()
        self.network.cpu().eval()

    @torch.no_grad()
    def _embed(self, x: np.ndarray) -> np.ndarray:
        net = self.network.eval()
        xn = torch.from_numpy(self.scaler_.transform(x))
        bs = self.config.embed_batch_size
        return torch.cat([net.encoder(xn[s : s + bs]) for s in range(0, xn.shape[0], bs)]).numpy()

    @property
    def embedding_dim(self) -> int:
        return self.config.channels[-1]

    @property
    def n_parameters(self) -> int:
        return 0 if self.network is None else sum(p.numel() for p in self.network.parameters())

    def _get_state(self) -> dict:
        return {
            "network": self.network.state_dict(),
            "input_size": self.network.input_size,
            "input_scale": self.scaler_.scale,
        }

    def _set_state(self, state: dict) -> None:
        self.scaler_ = MaxAbsScaler(state["input_scale"].numpy())
        self.network = TCNAutoencoderNetwork(int(state["input_size"]), self.config)
        self.network.load_state_dict(state["network"])
        self.network.eval()

"""A causal GRU that embeds each frame by predicting the next one (behaviorbench's protocol).

Input (N, T, F) float32; the embedding of frame t is the GRU's hidden state after frames
0..t, so it never sees the future. Training: next-frame prediction (MSE on normalised
features) on random crops, Adam. Everything random is drawn from ``config.seed``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn


@dataclass
class GRUConfig:
    hidden_size: int = 32  # embedding dims D
    epochs: int = 20  # passes over the training sequences
    batch_size: int = 8  # sequences per optimiser step
    crop_frames: int = 128  # frames per training crop (frames)
    lr: float = 3e-3  # Adam learning rate (1/step)
    seed: int = 0  # seeds the weights, the crops and the shuffling
    device: str = "cpu"  # torch device of training and embedding ("auto" -> cuda if available)

    def problems(self) -> list[str]:
        """Invalid settings (behaviorbench refuses to build a model whose config has any)."""
        bad = [f"{k} must be >= 1, got {v!r}" for k, v in
               (("hidden_size", self.hidden_size), ("crop_frames", self.crop_frames)) if v < 1]
        return bad + ([f"lr must be > 0, got {self.lr!r}"] if not self.lr > 0 else [])


class _Net(nn.Module):
    def __init__(self, n_features: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(n_features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_features)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, _ = self.gru(x)  # (B, L, H), causal
        return h, self.head(h)  # prediction of frame t + 1 from frames <= t


class GRUEmbedder:
    """fit / embed / save / load / n_parameters / config_class: the model protocol."""

    config_class = GRUConfig

    def __init__(self, config: GRUConfig | None = None) -> None:
        self.config = config or GRUConfig()
        self.net: _Net | None = None
        self.scale = None  # (F,) float32, max |x| per feature on the fit data

    def _device(self) -> torch.device:
        dev = self.config.device
        return torch.device("cuda" if dev == "auto" and torch.cuda.is_available() else
                            "cpu" if dev == "auto" else dev)

    def fit(self, x: np.ndarray) -> GRUEmbedder:
        """x: (N, T, F) float32 sequences -> self (trained)."""
        cfg, dev = self.config, self._device()
        x = np.asarray(x, np.float32)
        self.scale = np.maximum(np.abs(x).max(axis=(0, 1)), 1e-6).astype(np.float32)
        torch.manual_seed(cfg.seed)
        gen = torch.Generator().manual_seed(cfg.seed)
        self.net = _Net(x.shape[-1], cfg.hidden_size).to(dev)
        opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        data = torch.from_numpy(x / self.scale)
        crop = min(cfg.crop_frames, x.shape[1] - 1)
        for _ in range(cfg.epochs):
            order = torch.randperm(len(data), generator=gen)
            for i in range(0, len(order), cfg.batch_size):
                rows = order[i : i + cfg.batch_size]
                start = torch.randint(0, x.shape[1] - crop, (1,), generator=gen).item()
                seq = data[rows, start : start + crop + 1].to(dev)
                _, pred = self.net(seq[:, :-1])
                loss = nn.functional.mse_loss(pred, seq[:, 1:])
                opt.zero_grad()
                loss.backward()
                opt.step()
        return self

    @torch.no_grad()
    def embed(self, x: np.ndarray) -> np.ndarray:
        """x: (N, T, F) -> (N, T, hidden_size) float32; frame t uses frames <= t only."""
        self.net.eval()
        out = [self.net(torch.from_numpy(np.asarray(s, np.float32)[None] / self.scale)
                        .to(self._device()))[0][0].cpu().numpy() for s in x]
        return np.stack(out).astype(np.float32)

    @property
    def n_parameters(self) -> int:
        return 0 if self.net is None else sum(p.numel() for p in self.net.parameters())

    def save(self, path: str | Path) -> Path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        torch.save({"config": asdict(self.config), "scale": torch.from_numpy(self.scale),
                    "state": self.net.state_dict()}, path)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> GRUEmbedder:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        model = cls(GRUConfig(**blob["config"]))
        model.scale = blob["scale"].numpy()
        model.net = _Net(len(model.scale), model.config.hidden_size).to(model._device())
        model.net.load_state_dict(blob["state"])
        return model

"""Baselines with the estimator interface: raw, pca, random-tcn, bams-short, bams-long.

* ``raw``: the input features divided by their max |value| (the BAMS normalisation). D = F.
* ``pca``: PCA of causally delay-embedded normalised frames ``[x_t, x_{t-1}, ..., x_{t-h+1}]``
  (the first frame repeats before the start). Default 64 components (= BAMS embedding size)
  over ``history=3`` frames (24 features x 3 = 72 >= 64 dims for the quadruped data);
  components are clamped to the available dimension.
* ``random-tcn``: the BAMS network, randomly initialised from the seed and never trained
  (normalisation fitted only). D = 64.
* ``bams-short`` / ``bams-long``: a BAMS model whose ``embed`` returns only the short-term
  (first 32 dims) or long-term (last 32 dims) space. ``fit`` trains a full BAMS (the spaces are
  learned jointly); to avoid training twice, train one ``BAMS`` and slice it with
  ``BAMSShort.from_trained(bams)`` / ``BAMSLong.from_trained(bams)`` (shares the weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bams import BAMS, BAMSConfig
from .base import Estimator, MaxAbsScaler


@dataclass
class RawConfig:
    normalise: bool = True  # divide each feature by its max |value| on the fit data

    def __post_init__(self) -> None:
        from .validation import validate_on_construction

        validate_on_construction(self)


class RawFeatures(Estimator):
    """Identity embedding of the (normalised) input features: (N, T, F) -> (N, T, F)."""

    name = "raw"
    config_class = RawConfig

    def _fit(self, x: np.ndarray, valid: np.ndarray | None) -> None:
        self.scaler_ = (
            MaxAbsScaler.fit(x, valid)
            if self.config.normalise
            else MaxAbsScaler(np.ones(x.shape[-1], np.float32))
        )

    def _embed(self, x: np.ndarray) -> np.ndarray:
        return self.scaler_.transform(x)

    @property
    def embedding_dim(self) -> int:
        return int(self.scaler_.scale.shape[0])

    def _get_state(self) -> dict:
        return {"scale": self.scaler_.scale}

    def _set_state(self, state: dict) -> None:
        self.scaler_ = MaxAbsScaler(state["scale"].numpy())


@dataclass
class PCAConfig:
    n_components: int = 64  # output dims (clamped to F * history)
    history: int = 3  # frames stacked causally per sample (t, t-1, ..., t-history+1)
    max_fit_frames: int = 200_000  # frames subsampled (seeded) to fit the components
    whiten: bool = False  # divide each component by its standard deviation
    seed: int = 0  # seeds the frame subsample


    def __post_init__(self) -> None:
        from .validation import validate_on_construction

        validate_on_construction(self)

    def problems(self) -> list[str]:
        """Invalid settings, one phrase each."""
        from .validation import MAX_EMBEDDING_DIM, at_least, in_range

        out = in_range("n_components", self.n_components, 1, MAX_EMBEDDING_DIM)
        out += at_least("history", self.history, 1)
        out += at_least("max_fit_frames", self.max_fit_frames, 2)
        return out + at_least("seed", self.seed, 0)


def delay_embed(x: np.ndarray, history: int) -> np.ndarray:
    """(N, T, F) -> (N, T, F*history): [x_t, x_{t-1}, ...], first frame repeated before t=0."""
    if history <= 1:
        return x
    pad = np.repeat(x[:, :1], history - 1, axis=1)
    xp = np.concatenate([pad, x], axis=1)
    t_len = x.shape[1]
    lags = [xp[:, history - 1 - k : history - 1 - k + t_len] for k in range(history)]
    return np.concatenate(lags, axis=-1)


class PCABaseline(Estimator):
    """Causal delay-embedded PCA: (N, T, F) -> (N, T, n_components)."""

    name = "pca"
    config_class = PCAConfig

    def _fit(self, x: np.ndarray, valid: np.ndarray | None) -> None:
        cfg = self.config
        self.scaler_ = MaxAbsScaler.fit(x, valid)
        z = delay_embed(self.scaler_.transform(x), cfg.history).reshape(
            -1, x.shape[-1] * cfg.history
        )
        if valid is not None:
            z = z[valid.reshape(-1)]
        rng = np.random.default_rng(cfg.seed)
        if z.shape[0] > cfg.max_fit_frames:
            z = z[rng.choice(z.shape[0], cfg.max_fit_frames, replace=False)]
        self.mean_ = z.mean(axis=0).astype(np.float32)
        _, s, vt = np.linalg.svd(z - self.mean_, full_matrices=False)
        k = min(cfg.n_components, vt.shape[0])
        self.components_ = vt[:k].astype(np.float32)  # (k, F*history)
        std = s[:k] / np.sqrt(max(1, z.shape[0] - 1))
        self.std_ = np.where(std > 0, std, 1.0).astype(np.float32)

    def _embed(self, x: np.ndarray) -> np.ndarray:
        z = delay_embed(self.scaler_.transform(x), self.config.history)
        out = (z - self.mean_) @ self.components_.T
        return out / self.std_ if self.config.whiten else out

    @property
    def embedding_dim(self) -> int:
        return int(self.components_.shape[0])

    @property
    def n_parameters(self) -> int:
        return int(self.components_.size + self.mean_.size)

    def _get_state(self) -> dict:
        return {
            "scale": self.scaler_.scale,
            "mean": self.mean_,
            "components": self.components_,
            "std": self.std_,
        }

    def _set_state(self, state: dict) -> None:
        self.scaler_ = MaxAbsScaler(state["scale"].numpy())
        self.mean_ = state["mean"].numpy()
        self.components_ = state["components"].numpy()
        self.std_ = state["std"].numpy()


@dataclass
class RandomTCNConfig(BAMSConfig):
    """BAMS architecture, untrained (``train`` False): only the normalisation is fitted."""

    train: bool = False  # never trained; weights are the seeded random init


class RandomTCN(BAMS):
    name = "random-tcn"
    config_class = RandomTCNConfig


class _BAMSSpace(BAMS):
    """BAMS restricted to one embedding space; see module docstring."""

    @classmethod
    def from_trained(cls, bams: BAMS) -> _BAMSSpace:
        """View of an already trained BAMS (shares network and normalisation; no training)."""
        if not bams.fitted_:
            raise RuntimeError("from_trained needs a fitted BAMS")
        obj = cls(bams.config)
        obj.network, obj.scaler_, obj.quantizer_ = bams.network, bams.scaler_, bams.quantizer_
        obj.targets_, obj.history, obj.fitted_ = bams.targets_, bams.history, True
        return obj


class BAMSShort(_BAMSSpace):
    name = "bams-short"
    space = "short"


class BAMSLong(_BAMSSpace):
    name = "bams-long"
    space = "long"

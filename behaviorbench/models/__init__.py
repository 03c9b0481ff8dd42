"""behaviorbench.models: BAMS and its baselines behind one estimator interface.

``MODELS`` maps names to classes; ``get_model(name, **overrides)`` builds one. Every model has
``fit(data) -> self``, ``embed(x) -> (N, T, D) float32`` (causal), ``save``/``load`` and
``n_parameters``. See docs/models.md.
"""

from .bams import BAMS, BAMSConfig, BAMSNetwork
from .base import Estimator, as_features
from .baselines import BAMSLong, BAMSShort, PCABaseline, RandomTCN, RawFeatures
from .cebra_model import CebraTime
from .registry import MODELS, get_model, load_model
from .tcn_autoencoder import TCNAutoencoder
from .training import Trainer, TrainingConfig

__all__ = [
    "BAMS",
    "BAMSConfig",
    "BAMSLong",
    "BAMSNetwork",
    "BAMSShort",
    "CebraTime",
    "Estimator",
    "MODELS",
    "PCABaseline",
    "RandomTCN",
    "RawFeatures",
    "TCNAutoencoder",
    "Trainer",
    "TrainingConfig",
    "as_features",
    "get_model",
    "load_model",
]

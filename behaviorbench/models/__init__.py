"""behaviorbench.models: BAMS and its baselines behind one estimator interface.

``MODELS`` maps names to classes; ``get_model(name, **overrides)`` builds one. Every model has
``fit(data) -> self``, ``embed(x) -> (N, T, D) float32`` (causal), ``save``/``load`` and
``n_parameters``. Models of other packages: an entry point in the ``behaviorbench.models``
group or an import path ``package.module:ClassName`` (``external.resolve_model``). See
docs/models.md.
"""

from .bams import BAMS, BAMSConfig, BAMSNetwork
from .base import Estimator, as_features
from .baselines import BAMSLong, BAMSShort, PCABaseline, RandomTCN, RawFeatures
from .cebra_model import CebraTime
from .external import ENTRY_POINT_GROUP, ModelResolutionError, ModelSource, resolve_model
from .registry import MODELS, get_model, load_model
from .tcn_autoencoder import TCNAutoencoder
from .training import NonFiniteLossError, Trainer, TrainingConfig
from .validation import ModelConfigError, config_problems

__all__ = [
    "BAMS",
    "BAMSConfig",
    "BAMSLong",
    "BAMSNetwork",
    "BAMSShort",
    "CebraTime",
    "ENTRY_POINT_GROUP",
    "Estimator",
    "MODELS",
    "ModelConfigError",
    "ModelResolutionError",
    "ModelSource",
    "NonFiniteLossError",
    "PCABaseline",
    "RandomTCN",
    "RawFeatures",
    "TCNAutoencoder",
    "Trainer",
    "TrainingConfig",
    "as_features",
    "config_problems",
    "get_model",
    "load_model",
    "resolve_model",
]

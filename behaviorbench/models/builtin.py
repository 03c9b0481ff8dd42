"""The built-in models: the explicit registry ``MODELS`` (name -> estimator class). A new
built-in model is one entry here; models of other packages are found by ``external.py``."""

from __future__ import annotations

from .bams import BAMS
from .base import Estimator
from .baselines import BAMSLong, BAMSShort, PCABaseline, RandomTCN, RawFeatures
from .cebra_model import CebraTime
from .tcn_autoencoder import TCNAutoencoder

MODELS: dict[str, type[Estimator]] = {
    "bams": BAMS,
    "bams-short": BAMSShort,
    "bams-long": BAMSLong,
    "raw": RawFeatures,
    "pca": PCABaseline,
    "random-tcn": RandomTCN,
    "tcn-autoencoder": TCNAutoencoder,
    "cebra-time": CebraTime,
}

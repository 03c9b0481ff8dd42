"""Example behaviorbench model package: ``bb_gru.model.GRUEmbedder`` (a causal GRU)."""

from .model import GRUConfig, GRUEmbedder

__all__ = ["GRUConfig", "GRUEmbedder"]

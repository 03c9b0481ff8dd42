"""behaviorbench.models."""

"""behaviorbench.datasets."""

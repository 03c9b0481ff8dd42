"""behaviorbench.benchmark."""

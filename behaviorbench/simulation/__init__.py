"""behaviorbench.simulation."""

"""behaviorbench.leaderboard: ``to_dataframe()`` returns the board as a pandas DataFrame."""

from behaviorbench.leaderboard.frame import to_dataframe

__all__ = ["to_dataframe"]

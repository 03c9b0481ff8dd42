"""behaviorbench.leaderboard."""

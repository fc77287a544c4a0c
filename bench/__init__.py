"""`make bench`: Mecene measured against baselines run side by side, reported as ratios."""

"""Mecene configuration: defaults, file and environment; imports nothing of ours."""

"""Render functions: they read state vars and wire events, nothing else."""

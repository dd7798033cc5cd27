"""Evaluation of the trained model on held-out files (never used for training)."""

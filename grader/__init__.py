"""nngrade: automatic grading and feedback for neural-network homework."""

__version__ = "0.1.0"

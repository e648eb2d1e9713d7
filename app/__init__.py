"""TAO Desk: a desktop app for training NVIDIA TAO models."""

__version__ = "0.1.0"

"""Pose classification (ST-GCN) stand-in: a softmax classifier on skeleton-sequence features."""

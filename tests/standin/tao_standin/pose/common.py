"""Pieces shared by the pose subtasks: the class list and checkpoints in and out."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import checkpoints
from ..config import require
from ..runtime import TaskContext
from .data import class_names
from .model import CHECKPOINT_KIND, Classifier


def spec_class_names(context: TaskContext) -> list[str]:
    """Class names by index, from dataset.label_map and dataset.num_classes."""
    num_classes = int(context.get("dataset.num_classes", 6))
    return class_names(context.get("dataset.label_map"), num_classes)


def load_classifier(context: TaskContext, key: str) -> tuple[Classifier, dict[str, np.ndarray]]:
    """The classifier stored in the checkpoint named by a spec key (e.g. evaluate.checkpoint)."""
    path = Path(str(require(context.cfg, key)))
    arrays = checkpoints.load(path, CHECKPOINT_KIND)
    model = Classifier(arrays["weights"], arrays["bias"], arrays["feature_mean"], arrays["feature_std"])
    print(f"Loaded checkpoint {path} (epoch {int(arrays['epoch'])}, step {int(arrays['global_step'])})")
    return model, arrays


def warn_single_gpu(context: TaskContext, what: str) -> None:
    """Pose evaluation and inference run on one GPU, as TAO's do."""
    if len(context.gpu_ids) > 1:
        print(
            f"Pose Classification does not support multi-GPU {what} at this time; "
            f"using GPU {context.gpu_ids[0]}."
        )

"""`pose_classification evaluate`: accuracy per class on the test set, printed and as status KPIs."""

from __future__ import annotations

import numpy as np

from ..runtime import TaskContext
from .common import load_classifier, spec_class_names, warn_single_gpu
from .data import check_batch, check_labels, extract_features, load_split


def evaluate(context: TaskContext) -> None:
    """Print `Class accuracy`, `Total accuracy` and `Average class accuracy` (percent)."""
    warn_single_gpu(context, "evaluation")
    names = spec_class_names(context)
    model, _ = load_classifier(context, "evaluate.checkpoint")
    test_set = load_split(
        context.get("evaluate.test_dataset.data_path"),
        context.get("evaluate.test_dataset.label_path"),
        "evaluate.test_dataset",
    )
    if not len(test_set.labels):
        raise ValueError("evaluate.test_dataset.label_path is required to evaluate")
    check_labels(test_set.labels, test_set.sample_names, len(names), "evaluate.test_dataset.label_path")
    check_batch(len(test_set), int(context.get("dataset.batch_size", 16)), 1, "evaluate")
    predictions = model.predict(extract_features(test_set.data))
    correct = predictions == test_set.labels
    total = 100.0 * float(correct.mean())
    per_class = []
    print("*" * 40)
    for index, name in enumerate(names):
        members = test_set.labels == index
        if not members.any():
            continue
        accuracy = 100.0 * float(correct[members].mean())
        per_class.append(accuracy)
        print(f"Class accuracy: {name}: {accuracy:.2f}")
    average = float(np.mean(per_class))
    print(f"Total accuracy: {total:.2f}")
    print(f"Average class accuracy: {average:.2f}")
    print("*" * 40)
    context.status.write(
        "Evaluation metrics generated.", kpi={"accuracy": round(total, 2), "avg_accuracy": round(average, 2)}
    )

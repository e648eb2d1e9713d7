"""`sparse4d evaluate`: detection metrics on dataset.test_dataset, as status KPIs and metrics_summary.json."""

from __future__ import annotations

from ..runtime import TaskContext
from .common import load_model, run_predictions


def evaluate(context: TaskContext) -> None:
    """Predict the test infos and score them (img_bbox_NuScenes/mAP, NDS, ...)."""
    model, _ = load_model(context, "evaluate.checkpoint")
    metrics = run_predictions(context, model, "dataset.test_dataset.ann_file", context.results_dir, True)
    context.status.write("Evaluation metrics generated.", kpi=metrics)

"""`sparse4d inference`: `<inference.jsonfile_prefix>/img_bbox/results_nusc.json` with stable track ids."""

from __future__ import annotations

from pathlib import Path

from ..runtime import TaskContext
from .common import load_model, run_predictions


def inference(context: TaskContext) -> None:
    """Predict dataset.test_dataset; a relative jsonfile_prefix is relative to the working directory."""
    model, _ = load_model(context, "inference.checkpoint")
    prefix = Path(str(context.get("inference.jsonfile_prefix", "sparse4d_pred")))
    run_predictions(context, model, "dataset.test_dataset.ann_file", prefix, False)
    context.status.write(f"Inference results saved to {prefix / 'img_bbox' / 'results_nusc.json'}.")

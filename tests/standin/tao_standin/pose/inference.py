"""`pose_classification inference`: one predicted class name per input sequence, in input order."""

from __future__ import annotations

from pathlib import Path

from ..config import require
from ..runtime import TaskContext
from .common import load_classifier, spec_class_names, warn_single_gpu
from .data import check_batch, extract_features, load_split


def inference(context: TaskContext) -> None:
    """Write `inference.output_file` (its folder must exist, as with TAO)."""
    warn_single_gpu(context, "inference")
    names = spec_class_names(context)
    output = Path(str(require(context.cfg, "inference.output_file")))
    model, _ = load_classifier(context, "inference.checkpoint")
    test_set = load_split(context.get("inference.test_dataset.data_path"), None, "inference.test_dataset")
    check_batch(len(test_set), int(context.get("dataset.batch_size", 16)), 1, "inference")
    predictions = model.predict(extract_features(test_set.data))
    with open(output, "w", encoding="utf-8") as stream:
        for index in predictions:
            stream.write(f"{names[int(index)]}\n")
    print(f"Wrote {len(predictions)} predictions to {output}")
    context.status.write(f"Inference results saved to {output}.")

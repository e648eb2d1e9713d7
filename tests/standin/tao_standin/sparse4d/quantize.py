"""`sparse4d quantize`: weight-only int8 quantisation of the checkpoint's parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import checkpoints
from ..config import require
from ..runtime import TaskContext
from .model import CHECKPOINT_KIND

QUANTIZED_KIND = "taodesk-standin/sparse4d-quantized"


def quantize(context: TaskContext) -> None:
    """Write `quantized_model_<backend>.pth` into the quantize results folder."""
    backend = str(context.get("quantize.backend", "torchao"))
    mode = str(context.get("quantize.mode", "weight_only_ptq"))
    if backend not in ("torchao", "modelopt.pytorch", "modelopt.onnx"):
        raise NotImplementedError(f"quantize.backend {backend} is not supported")
    if mode not in ("weight_only_ptq", "static_ptq"):
        raise NotImplementedError(f"quantize.mode {mode} is not supported")
    source = Path(str(require(context.cfg, "quantize.model_path")))
    arrays = checkpoints.load(source, CHECKPOINT_KIND)
    quantized: dict[str, np.ndarray] = {}
    for name in ("anchors", "objectness", "class_logits"):
        values = arrays[name].astype(np.float64)
        scale = float(np.abs(values).max()) / 127.0 or 1.0
        quantized[f"{name}.int8"] = np.round(values / scale).astype(np.int8)
        quantized[f"{name}.scale"] = np.array(scale)
    short_name = backend.split(".")[0]
    output = context.results_dir / f"quantized_model_{short_name}.pth"
    checkpoints.save(output, quantized, QUANTIZED_KIND)
    print(
        f"Quantized ({backend}, {mode}, {context.get('quantize.algorithm', 'minmax')}) "
        f"model saved to {output}"
    )
    context.status.write(f"Quantized model saved to {output}")

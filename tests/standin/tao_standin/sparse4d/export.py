"""`sparse4d export`: an ONNX file with the real model's input and output names."""

from __future__ import annotations

from pathlib import Path

from ..config import require
from ..onnx import write_model
from ..runtime import TaskContext
from .common import load_model


def export(context: TaskContext) -> None:
    """Write export.onnx_file from export.checkpoint (anchors as the cached-anchor initializer)."""
    onnx_file = Path(str(require(context.cfg, "export.onnx_file")))
    model, _ = load_model(context, "export.checkpoint")
    width, height = [*list(context.get("model.input_shape", [1408, 512])), 1408, 512][:2]
    embed = int(context.get("model.head.embed_dims", 256))
    temporal = int(context.get("model.head.instance_bank.num_temp_instances", 600))
    cams = "num_cams"
    inputs: dict[str, list[int | str]] = {
        "img": ["batch_size", cams, 3, int(height), int(width)],
        "timestamp": ["batch_size"],
        "projection_mat": ["batch_size", cams, 4, 4],
        "image_wh": ["batch_size", cams, 2],
        "input_cached_feature": ["batch_size", temporal, embed],
        "input_cached_anchor": ["batch_size", temporal, 11],
        "prev_exists": ["batch_size"],
        "interval_mask": ["batch_size"],
    }
    outputs: dict[str, list[int | str]] = {
        **{
            f"classification{i}": ["batch_size", len(model.anchors), model.class_logits.shape[1]]
            for i in (1, 2)
        },
        **{f"prediction{i}": ["batch_size", len(model.anchors), 11] for i in range(1, 7)},
        **{f"quality{i}": ["batch_size", len(model.anchors), 2] for i in (1, 2)},
        "output_cached_feature": ["batch_size", temporal, embed],
        "output_cached_anchor": ["batch_size", temporal, 11],
    }
    onnx_file.parent.mkdir(parents=True, exist_ok=True)
    write_model(
        onnx_file,
        "sparse4d",
        inputs,
        outputs,
        {"instance_bank.anchor": model.anchors},
        opset=int(context.get("export.opset_version", 17)),
    )
    print(f"ONNX file stored at {onnx_file}")
    context.status.write(f"ONNX file stored at {onnx_file}")

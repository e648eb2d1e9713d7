"""`pose_classification export`: an ONNX file with TAO's input/output names and the trained weights."""

from __future__ import annotations

from pathlib import Path

from ..config import require
from ..onnx import write_model
from ..runtime import TaskContext
from .common import load_classifier

LAYOUT_SHAPES = {
    "nvidia": (34, 1, 300),
    "openpose": (18, 1, 300),
    "human3.6m": (17, 1, 3163),
    "ntu-rgb+d": (25, 2, 300),
    "ntu_edge": (24, 2, 300),
    "coco": (17, 1, 300),
}


def export(context: TaskContext) -> None:
    """Write export.onnx_file (default `<checkpoint>.onnx`); refuse to overwrite an existing file."""
    checkpoint = str(require(context.cfg, "export.checkpoint"))
    onnx_file = Path(context.get("export.onnx_file") or f"{checkpoint}.onnx")
    assert not onnx_file.exists(), f"Default onnx file {onnx_file} already exists"
    layout = str(context.get("model.graph_layout", "nvidia"))
    if layout not in LAYOUT_SHAPES:
        raise NotImplementedError(f"Layout {layout} not supported")
    joints, persons, frames = LAYOUT_SHAPES[layout]
    channels = int(context.get("model.input_channels", 3))
    model, _ = load_classifier(context, "export.checkpoint")
    onnx_file.parent.mkdir(parents=True, exist_ok=True)
    write_model(
        onnx_file,
        graph_name="main_graph",
        inputs={"input": ["batch", channels, frames, joints, persons]},
        outputs={"fc_pred": ["batch", int(model.bias.shape[0])]},
        weights={"fcn.weight": model.weights.T, "fcn.bias": model.bias},
        opset=12,
    )
    print(f"ONNX file stored at {onnx_file}")
    context.status.write(f"ONNX file stored at {onnx_file}")

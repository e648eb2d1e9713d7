"""Pieces shared by the Sparse4D subtasks: classes, anchors, checkpoints and prediction runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .. import checkpoints
from ..config import require
from ..runtime import TaskContext
from .infos import load_infos
from .metrics import PREFIX, evaluate_detection
from .model import CHECKPOINT_KIND, AnchorModel
from .predict import predict

DEFAULT_CLASSES = ["person", "gr1_t2", "agility_digit", "nova_carter"]
TRACKING_THRESHOLD = 0.2


def spec_classes(context: TaskContext) -> list[str]:
    """dataset.classes (TAO's default when absent)."""
    return [str(name) for name in context.get("dataset.classes", DEFAULT_CLASSES)]


def initial_anchors(context: TaskContext) -> np.ndarray:
    """The instance bank's anchors: the .npy at model.head.instance_bank.anchor, or zeros."""
    num_anchor = int(context.get("model.head.instance_bank.num_anchor", 900))
    path = str(context.get("model.head.instance_bank.anchor", "") or "")
    if not path:
        print("Initializing anchor with zeros")
        anchors = np.zeros((num_anchor, 11))
        anchors[:, 7] = 1.0
        return anchors
    if not Path(path).is_file():
        raise FileNotFoundError(f"model.head.instance_bank.anchor {path} does not exist")
    anchors = np.load(path)
    if anchors.ndim != 2 or anchors.shape[1] < 3:
        raise ValueError(f"anchor file {path} has shape {anchors.shape}; expected (num_anchor, 11)")
    padded = np.zeros((len(anchors), 11))
    padded[:, : anchors.shape[1]] = anchors[:, :11]
    return padded[: min(len(anchors), num_anchor)]


def load_model(context: TaskContext, key: str) -> tuple[AnchorModel, dict[str, np.ndarray]]:
    """The anchor model stored in the checkpoint named by a spec key."""
    path = Path(str(require(context.cfg, key)))
    arrays = checkpoints.load(path, CHECKPOINT_KIND)
    model = AnchorModel.from_arrays(arrays)
    classes = spec_classes(context)
    if model.class_logits.shape[1] != len(classes):
        raise ValueError(
            f"checkpoint {path} was trained for {model.class_logits.shape[1]} classes, "
            f"dataset.classes lists {len(classes)}"
        )
    print(f"Loaded checkpoint {path} (epoch {int(arrays['epoch'])}, step {int(arrays['global_step'])})")
    return model, arrays


def run_predictions(
    context: TaskContext, model: AnchorModel, ann_key: str, output_dir: Path, with_metrics: bool
) -> dict[str, float]:
    """Predict on the infos at ann_key; write img_bbox/results_nusc.json (and metrics_summary.json)."""
    infos = load_infos(str(require(context.cfg, ann_key)), ann_key)
    classes = spec_classes(context)
    tracking = bool(context.get(f"{context.task}.tracking", {"enabled": True}))
    embed_dims = int(context.get("model.head.embed_dims", 256))
    seed = int(context.get("train.seed", 1234))
    results = predict(model, infos, classes, seed, TRACKING_THRESHOLD if tracking else None, embed_dims)
    folder = output_dir / "img_bbox"
    folder.mkdir(parents=True, exist_ok=True)
    results_path = folder / "results_nusc.json"
    _write_json(results_path, results)
    boxes = sum(len(items) for items in results["results"].values())
    print(f"Wrote {boxes} boxes for {len(infos)} frames to {results_path}", flush=True)
    if not with_metrics:
        return {}
    metrics = evaluate_detection(results, infos, classes)
    _write_json(folder / "metrics_summary.json", metrics["summary"])
    flat: dict[str, float] = metrics["flat"]
    shown = (
        flat if context.task == "evaluate" else {key: flat[key] for key in (f"{PREFIX}mAP", f"{PREFIX}NDS")}
    )
    for name, value in shown.items():
        print(f"{name}: {value:.4f}")
    return flat


def _write_json(path: Path, content: Any) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(content), encoding="utf-8")
    temporary.replace(path)

"""The trainable part of the stand-in: a box branch, an anchor bank's scores and a depth branch.

The box branch turns the cameras' measurements into box centres, `centre + exp(depth_scale) * ray +
offset`, and learns to undo the cameras' depth-scale error. The anchor bank (from the anchor file) learns
objectness and class scores for the anchors nearest the boxes; the depth branch fits the mean log
depth the cameras see. Decoder stage i applies i+1 of num_decoder shares of the correction, so
stage losses fall with i as they do in the real model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .sensors import Observation

CHECKPOINT_KIND = "taodesk-standin/sparse4d"
# The stand-in has a handful of parameters, not network weights: scale the spec's learning rate so
# that TAO's default (5e-5) changes them by a few percent per hundred steps.
LR_SCALE = 100.0
PARAMETERS = ("depth_scale", "offset", "objectness", "class_logits", "log_depth")


def sigmoid(values: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(values, -30, 30))))


@dataclass
class AnchorModel:
    """All trained arrays; anchors (k, 11) are the instance bank's and stay fixed."""

    anchors: np.ndarray
    objectness: np.ndarray
    class_logits: np.ndarray
    log_depth: np.ndarray
    depth_scale: np.ndarray
    offset: np.ndarray

    @classmethod
    def initial(cls, anchors: np.ndarray, num_classes: int) -> AnchorModel:
        """Measurements taken at face value, objectness low, class scores flat, depth at 10 m."""
        count = len(anchors)
        return cls(
            anchors.astype(np.float64).copy(),
            np.full(count, -2.0),
            np.zeros((count, num_classes)),
            np.array([np.log(10.0)]),
            np.zeros(1),
            np.zeros(3),
        )

    def as_arrays(self) -> dict[str, np.ndarray]:
        """The arrays a checkpoint stores."""
        return {name: getattr(self, name) for name in ("anchors", *PARAMETERS)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> AnchorModel:
        """The model stored by as_arrays."""
        return cls(**{name: np.array(arrays[name], dtype=np.float64) for name in ("anchors", *PARAMETERS)})

    def centres(self, observation: Observation, share: float = 1.0) -> np.ndarray:
        """Box centres from the measurements, applying `share` of the learned correction."""
        scale = 1.0 + (np.exp(self.depth_scale[0]) - 1.0) * share
        return np.asarray(observation.camera_centre + scale * observation.ray + share * self.offset)

    def nearest_anchor(self, points: np.ndarray) -> np.ndarray:
        """Index of the nearest anchor centre for each point (n, 3)."""
        if len(points) == 0:
            return np.zeros(0, dtype=np.int64)
        centres = self.anchors[:, :3]
        squared = (points**2).sum(axis=1)[:, None] - 2 * points @ centres.T + (centres**2).sum(axis=1)
        return np.asarray(squared.argmin(axis=1))


@dataclass
class Losses:
    """Named losses of one step (values for the curves) and the gradients behind them."""

    values: dict[str, float]
    gradients: dict[str, np.ndarray] = field(default_factory=dict)


def step_losses(
    model: AnchorModel,
    frames: list[Observation],
    depths: list[float],
    num_decoder: int,
    cls_weight: float,
    box_weight: float,
    depth_weight: float,
) -> Losses:
    """Losses and gradients for a batch of frames."""
    grads = {name: np.zeros_like(getattr(model, name)) for name in PARAMETERS}
    stages = max(1, num_decoder)
    stage_cls = np.zeros(stages)
    stage_box = np.zeros(stages)
    boxes_seen = 0
    for frame in frames:
        seen = frame.visible
        truth = frame.boxes[seen, :3]
        labels = frame.labels[seen]
        rows = np.arange(len(labels))
        targets = np.zeros(len(model.anchors))
        index = model.nearest_anchor(truth)
        targets[index] = 1.0
        class_probability = np.exp(
            model.class_logits[index] - model.class_logits[index].max(axis=1, keepdims=True)
        )
        class_probability /= class_probability.sum(axis=1, keepdims=True)
        for stage in range(stages):
            share = (stage + 1) / stages
            error = model.centres(frame, share)[seen] - truth
            stage_box[stage] += float(np.abs(error).sum())
            sharpened = sigmoid(model.objectness + 0.3 * stage * (2 * targets - 1))
            bce = -(targets * np.log(sharpened + 1e-9) + (1 - targets) * np.log(1 - sharpened + 1e-9))
            ce = -np.log(class_probability[rows, labels] + 1e-9).mean() if len(labels) else 0.0
            stage_cls[stage] += float(bce.mean() + ce)
        boxes_seen += len(labels)
        if len(labels):
            sign = np.sign(model.centres(frame)[seen] - truth)
            grads["depth_scale"][0] += (
                float((sign * frame.ray[seen]).sum()) * np.exp(model.depth_scale[0]) * box_weight
            )
            grads["offset"] += sign.sum(axis=0) * box_weight
            delta = class_probability.copy()
            delta[rows, labels] -= 1.0
            np.add.at(grads["class_logits"], index, delta / len(labels) * cls_weight)
        grads["objectness"] += (sigmoid(model.objectness) - targets) / len(targets) * cls_weight
    count = max(1, len(frames))
    values: dict[str, float] = {}
    for stage in range(stages):
        values[f"loss_cls_{stage}"] = stage_cls[stage] / count * cls_weight
        values[f"loss_box_{stage}"] = stage_box[stage] / max(1, boxes_seen) * box_weight
    for name in ("depth_scale", "offset"):
        grads[name] /= max(1, boxes_seen)
    for name in ("objectness", "class_logits"):
        grads[name] /= count
    if depths:
        residual = model.log_depth[0] - np.log(np.asarray(depths))
        values["loss_dense_depth"] = float((residual**2).mean()) * depth_weight
        grads["log_depth"][0] = 2 * residual.mean() * depth_weight
    else:
        values["loss_dense_depth"] = 0.0
    values["loss"] = float(sum(values.values()))
    return Losses(values, grads)


@dataclass
class AdamW:
    """torch.optim.AdamW on the model's parameters (decoupled weight decay, bias correction, clipping)."""

    weight_decay: float
    max_norm: float
    first: dict[str, np.ndarray]
    second: dict[str, np.ndarray]
    steps: int = 0

    @classmethod
    def for_model(cls, model: AnchorModel, weight_decay: float, max_norm: float) -> AdamW:
        """Zero moments shaped like the model's parameters."""
        zeros = {name: np.zeros_like(getattr(model, name)) for name in PARAMETERS}
        return cls(weight_decay, max_norm, zeros, {name: value.copy() for name, value in zeros.items()})

    def step(self, model: AnchorModel, gradients: dict[str, np.ndarray], lr: float) -> None:
        """One update of the model in place at learning rate lr (the spec's value)."""
        effective = lr * LR_SCALE
        norm = float(np.sqrt(sum((grad**2).sum() for grad in gradients.values())))
        clip = self.max_norm / norm if self.max_norm > 0 and norm > self.max_norm else 1.0
        self.steps += 1
        for name in PARAMETERS:
            grad = gradients[name] * clip
            self.first[name] = 0.9 * self.first[name] + 0.1 * grad
            self.second[name] = 0.999 * self.second[name] + 0.001 * grad**2
            first = self.first[name] / (1 - 0.9**self.steps)
            second = self.second[name] / (1 - 0.999**self.steps)
            parameter = getattr(model, name)
            parameter *= 1 - effective * self.weight_decay
            parameter -= effective * first / (np.sqrt(second) + 1e-8)


def learning_rate(
    step: int, max_steps: int, base_lr: float, warmup_iters: int, warmup_ratio: float, min_lr_ratio: float
) -> float:
    """Linear warm-up then cosine annealing to min_lr_ratio, stepped every iteration."""
    if warmup_iters > 0 and step < warmup_iters:
        return base_lr * (warmup_ratio + (1 - warmup_ratio) * step / warmup_iters)
    span = max(1, max_steps - warmup_iters)
    progress = min(1.0, (step - warmup_iters) / span)
    return float(base_lr * (min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + np.cos(np.pi * progress))))

"""The trainable part of the stand-in: an anchor bank (centres, objectness, class scores, depth scale).

Each step assigns every ground-truth box to its nearest anchor, and AdamW pulls the assigned anchors
onto the boxes, raises their objectness and class score, and fits the mean log depth seen by the
cameras. Decoder stage i refines the assigned anchors i/num_decoder of the way, so stage losses fall
with i as they do in the real model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CHECKPOINT_KIND = "taodesk-standin/sparse4d"
# The stand-in's parameters are metres, not network weights: scale the spec's learning rate so that
# TAO's default (5e-5) moves anchors by centimetres per step.
LR_SCALE = 1000.0
PARAMETERS = ("centres", "objectness", "class_logits", "log_depth")


def sigmoid(values: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-np.clip(values, -30, 30)))


@dataclass
class AnchorModel:
    """Anchors (k, 11) as in the instance bank; centres are the trained columns 0..2."""

    anchors: np.ndarray
    objectness: np.ndarray
    class_logits: np.ndarray
    log_depth: np.ndarray

    @classmethod
    def initial(cls, anchors: np.ndarray, num_classes: int) -> AnchorModel:
        """Objectness starts low, class scores flat, depth at 10 m."""
        count = len(anchors)
        return cls(anchors.astype(np.float64).copy(), np.full(count, -2.0), np.zeros((count, num_classes)),
                   np.array([np.log(10.0)]))

    @property
    def centres(self) -> np.ndarray:
        """Anchor centres (k, 3), a view into anchors."""
        return self.anchors[:, :3]

    def nearest(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of and distance to the nearest anchor centre for each point (n, 3)."""
        if len(points) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        squared = (points**2).sum(axis=1)[:, None] - 2 * points @ self.centres.T + (self.centres**2).sum(axis=1)
        index = squared.argmin(axis=1)
        return index, np.linalg.norm(points - self.centres[index], axis=1)


@dataclass
class Losses:
    """Named losses of one step (values for the curves) and the gradients behind them."""

    values: dict[str, float]
    gradients: dict[str, np.ndarray] = field(default_factory=dict)


def step_losses(
    model: AnchorModel, frames: list[tuple[np.ndarray, np.ndarray]], depths: list[float], num_decoder: int,
    cls_weight: float, box_weight: float, depth_weight: float,
) -> Losses:
    """Losses and gradients for a batch of frames, each (centres (n, 3), labels (n,))."""
    grads = {name: np.zeros_like(getattr(model, name)) for name in PARAMETERS}
    stages = max(1, num_decoder)
    stage_cls = np.zeros(stages)
    stage_box = np.zeros(stages)
    for centres, labels in frames:
        index, _ = model.nearest(centres)
        targets = np.zeros(len(model.anchors))
        targets[index] = 1.0
        probability = sigmoid(model.objectness)
        offsets = centres - model.centres[index]
        class_probability = np.exp(model.class_logits[index] - model.class_logits[index].max(axis=1, keepdims=True))
        class_probability /= class_probability.sum(axis=1, keepdims=True)
        rows = np.arange(len(labels))
        for stage in range(stages):
            refined = offsets * (1.0 - 0.5 * stage / stages)
            stage_box[stage] += float(np.abs(refined).sum(axis=1).mean()) if len(labels) else 0.0
            sharpened = sigmoid(model.objectness + 0.3 * stage * (2 * targets - 1))
            bce = -(targets * np.log(sharpened + 1e-9) + (1 - targets) * np.log(1 - sharpened + 1e-9))
            ce = -np.log(class_probability[rows, labels] + 1e-9).mean() if len(labels) else 0.0
            stage_cls[stage] += float(bce.mean() + ce)
        grads["objectness"] += (probability - targets) / len(targets) * cls_weight
        if len(labels):
            np.add.at(grads["centres"], index, -np.sign(offsets) / len(labels) * box_weight)
            delta = class_probability.copy()
            delta[rows, labels] -= 1.0
            np.add.at(grads["class_logits"], index, delta / len(labels) * cls_weight)
    count = max(1, len(frames))
    values: dict[str, float] = {}
    for stage in range(stages):
        values[f"loss_cls_{stage}"] = stage_cls[stage] / count * cls_weight
        values[f"loss_box_{stage}"] = stage_box[stage] / count * box_weight
    depth_loss = 0.0
    if depths:
        target = np.log(np.asarray(depths))
        residual = model.log_depth[0] - target
        depth_loss = float((residual**2).mean()) * depth_weight
        grads["log_depth"][0] = 2 * residual.mean() * depth_weight
    values["loss_dense_depth"] = depth_loss
    values["loss"] = float(sum(values.values()))
    for name in PARAMETERS:
        grads[name] /= count if name != "log_depth" else 1
    return Losses(values, grads)


@dataclass
class AdamW:
    """torch.optim.AdamW on the anchor model's parameters (decoupled weight decay, bias correction)."""

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
            parameter = model.centres if name == "centres" else getattr(model, name)
            if name != "centres":
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

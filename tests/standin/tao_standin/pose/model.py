"""A softmax classifier on standardised features, trained with SGD the way TAO configures it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHECKPOINT_KIND = "taodesk-standin/pose_classification"


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable log-softmax over the last axis."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


@dataclass
class Classifier:
    """Weights (F, K) and bias (K) over features standardised with the training mean and std."""

    weights: np.ndarray
    bias: np.ndarray
    feature_mean: np.ndarray
    feature_std: np.ndarray

    @classmethod
    def initial(cls, features: np.ndarray, num_classes: int, rng: np.random.Generator) -> Classifier:
        """Small random weights; standardisation fitted on the training features."""
        mean = features.mean(axis=0)
        std = features.std(axis=0) + 1e-6
        weights = rng.normal(0.0, 0.01, size=(features.shape[1], num_classes))
        return cls(weights, np.zeros(num_classes), mean, std)

    def standardise(self, features: np.ndarray) -> np.ndarray:
        """Features on the scale the weights were trained for."""
        return ((features - self.feature_mean) / self.feature_std).astype(np.float64)

    def logits(self, standardised: np.ndarray) -> np.ndarray:
        """Class scores."""
        return standardised @ self.weights + self.bias

    def loss_and_accuracy(self, features: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
        """Mean cross-entropy and top-1 accuracy (0..1) without dropout."""
        logits = self.logits(self.standardise(features))
        log_probs = log_softmax(logits)
        loss = float(-log_probs[np.arange(len(labels)), labels].mean())
        accuracy = float((logits.argmax(axis=1) == labels).mean())
        return loss, accuracy

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Predicted class indices."""
        return np.asarray(self.logits(self.standardise(features)).argmax(axis=1))


@dataclass
class SGD:
    """torch.optim.SGD semantics: weight decay added to the gradient, momentum, optional Nesterov."""

    lr: float
    momentum: float
    weight_decay: float
    nesterov: bool
    grad_clip: float
    velocity_weights: np.ndarray
    velocity_bias: np.ndarray

    def step(self, model: Classifier, grad_weights: np.ndarray, grad_bias: np.ndarray) -> None:
        """One update of the model in place."""
        grad_weights = grad_weights + self.weight_decay * model.weights
        if self.grad_clip > 0:
            norm = float(np.sqrt((grad_weights**2).sum() + (grad_bias**2).sum()))
            if norm > self.grad_clip:
                grad_weights = grad_weights * (self.grad_clip / norm)
                grad_bias = grad_bias * (self.grad_clip / norm)
        self.velocity_weights = self.momentum * self.velocity_weights + grad_weights
        self.velocity_bias = self.momentum * self.velocity_bias + grad_bias
        if self.nesterov:
            grad_weights = grad_weights + self.momentum * self.velocity_weights
            grad_bias = grad_bias + self.momentum * self.velocity_bias
        else:
            grad_weights, grad_bias = self.velocity_weights, self.velocity_bias
        model.weights -= self.lr * grad_weights
        model.bias -= self.lr * grad_bias


def batch_gradients(
    model: Classifier, standardised: np.ndarray, labels: np.ndarray, dropout: float, rng: np.random.Generator
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Loss, accuracy and gradients of one batch, with inverted feature dropout."""
    inputs = standardised
    if dropout > 0:
        keep = 1.0 - min(dropout, 0.999)
        inputs = inputs * (rng.random(inputs.shape) < keep) / keep
    logits = model.logits(inputs)
    log_probs = log_softmax(logits)
    rows = np.arange(len(labels))
    loss = float(-log_probs[rows, labels].mean())
    accuracy = float((logits.argmax(axis=1) == labels).mean())
    delta = np.exp(log_probs)
    delta[rows, labels] -= 1.0
    delta /= len(labels)
    return loss, accuracy, inputs.T @ delta, delta.sum(axis=0)


class LearningRateSchedule:
    """MultiStep (decay at `lr_steps` epochs) or AutoReduce (ReduceLROnPlateau on `lr_monitor`)."""

    def __init__(
        self, base_lr: float, kind: str, steps: list[int], decay: float, patience: int, min_lr: float
    ):
        self.base_lr = base_lr
        self.kind = kind
        self.steps = sorted(int(step) for step in steps)
        self.decay = decay
        self.patience = patience
        self.min_lr = min_lr
        self.plateau_lr = base_lr
        self.best = float("inf")
        self.bad_epochs = 0

    def lr_for_epoch(self, epoch: int) -> float:
        """The learning rate to use during a 0-based epoch."""
        if self.kind == "AutoReduce":
            return self.plateau_lr
        passed = sum(1 for step in self.steps if epoch >= step)
        return float(self.base_lr * self.decay**passed)

    def observe(self, monitored: float) -> None:
        """Feed the monitored metric after an epoch (AutoReduce only)."""
        if self.kind != "AutoReduce" or not np.isfinite(monitored):
            return
        if monitored < self.best - 1e-4 * abs(self.best):
            self.best, self.bad_epochs = monitored, 0
            return
        self.bad_epochs += 1
        if self.bad_epochs > self.patience:
            self.plateau_lr = max(self.min_lr, self.plateau_lr * self.decay)
            self.bad_epochs = 0

"""`pose_classification train`: SGD on skeleton features with TAO's checkpoints, curves and status lines."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from .. import checkpoints
from ..runtime import TaskContext
from ..status import STARTED, epoch_progress
from ..tfevents import EventFileWriter
from .common import spec_class_names
from .data import check_batch, check_labels, extract_features, load_split
from .model import CHECKPOINT_KIND, SGD, Classifier, LearningRateSchedule, batch_gradients

LATEST = "pc_model_latest.pth"


@dataclass
class TrainState:
    """Everything a checkpoint restores."""

    model: Classifier
    optimizer: SGD
    schedule: LearningRateSchedule
    next_epoch: int = 0
    global_step: int = 0


def train(context: TaskContext) -> None:
    """Train, validating every validation_interval epochs and saving every checkpoint_interval."""
    num_epochs = int(context.get("train.num_epochs", 10))
    interval = int(context.get("train.checkpoint_interval", 1))
    interval_unit = str(context.get("train.checkpoint_interval_unit", "epoch"))
    validation_interval = int(context.get("train.validation_interval", 1))
    if interval_unit == "epoch":
        assert interval <= num_epochs, (
            f"Checkpoint interval {interval} > Number of epochs {num_epochs}. "
            "Please set train.checkpoint_interval <= train.num_epochs."
        )
    assert validation_interval <= num_epochs, (
        f"Validation interval {validation_interval} > Number of epochs {num_epochs}. "
        "Please set train.validation_interval <= train.num_epochs."
    )
    names = spec_class_names(context)
    batch_size = int(context.get("dataset.batch_size", 16))
    devices = len(context.gpu_ids) * int(context.get("train.num_nodes", 1))

    train_set = load_split(
        context.get("dataset.train_dataset.data_path"),
        context.get("dataset.train_dataset.label_path"),
        "dataset.train_dataset",
    )
    check_labels(train_set.labels, train_set.sample_names, len(names), "dataset.train_dataset.label_path")
    check_batch(len(train_set), batch_size, devices, "train")
    val_path = context.get("dataset.val_dataset.data_path")
    val_set = None
    if val_path:
        val_set = load_split(val_path, context.get("dataset.val_dataset.label_path"), "dataset.val_dataset")
        check_labels(val_set.labels, val_set.sample_names, len(names), "dataset.val_dataset.label_path")
        check_batch(len(val_set), batch_size, devices, "validation")
    print(
        f"Train set: {len(train_set)} sequences of shape {train_set.data.shape[1:]}; "
        f"validation set: {len(val_set) if val_set else 0}"
    )

    train_features = extract_features(train_set.data)
    val_features = extract_features(val_set.data) if val_set else None
    seed = int(context.get("train.seed", 1234))
    state = _initial_state(context, train_features, len(names), seed)
    keeper = checkpoints.CheckpointKeeper(context.results_dir, LATEST, CHECKPOINT_KIND)
    _resume(state, keeper.resume_path(context.get("train.resume_training_checkpoint_path")))

    steps_per_epoch = len(train_set) // (batch_size * devices)
    max_step = steps_per_epoch * num_epochs
    dropout = float(context.get("model.dropout", 0.5))
    epoch_pause = float(os.environ.get("TAODESK_STANDIN_EPOCH_SECONDS", "0") or 0)
    lr_monitor = str(context.get("train.optim.lr_monitor", "val_loss"))
    writer = EventFileWriter(context.results_dir / "lightning_logs" / "version_1")
    _write_hparams(context)
    context.status.write("Starting Training Loop.", status=STARTED)

    try:
        for epoch in range(state.next_epoch, num_epochs):
            started = time.time()
            lr = state.schedule.lr_for_epoch(epoch)
            state.optimizer.lr = lr
            rng = np.random.default_rng([max(seed, 0), epoch]) if seed >= 0 else np.random.default_rng()
            order = rng.permutation(len(train_set))
            standardised = state.model.standardise(train_features)
            losses, accuracies = [], []
            for batch in range(steps_per_epoch):
                rows = order[batch * batch_size * devices : (batch + 1) * batch_size * devices]
                loss, accuracy, grad_w, grad_b = batch_gradients(
                    state.model, standardised[rows], train_set.labels[rows], dropout, rng
                )
                state.optimizer.step(state.model, grad_w, grad_b)
                writer.add_scalar("train_loss_step", loss, state.global_step)
                state.global_step += 1
                losses.append(loss)
                accuracies.append(accuracy)
                if interval_unit == "step" and state.global_step % interval == 0:
                    keeper.save(_arrays(state, epoch), epoch, state.global_step)
            train_kpi = {"train_loss": float(np.mean(losses)), "train_acc": float(np.mean(accuracies))}
            val_kpi: dict[str, float] = {}
            if val_set is not None and val_features is not None and (epoch + 1) % validation_interval == 0:
                val_loss, val_acc = state.model.loss_and_accuracy(val_features, val_set.labels)
                val_kpi = {"val_loss": val_loss, "val_acc": val_acc}
            state.schedule.observe({**train_kpi, **val_kpi}.get(lr_monitor, train_kpi["train_loss"]))
            if epoch_pause > 0:
                time.sleep(epoch_pause)
            _log_epoch(writer, state.global_step - 1, epoch, lr, train_kpi, val_kpi)
            state.next_epoch = epoch + 1
            if interval_unit == "epoch" and (epoch + 1) % interval == 0:
                keeper.save(_arrays(state, epoch), epoch, state.global_step)
            keeper.end_of_epoch(_arrays(state, epoch))
            elapsed = time.time() - started
            progress = epoch_progress(
                epoch, state.global_step, num_epochs, max_step, elapsed, steps_per_epoch
            )
            context.status.write("Training loop in progress", data=progress)
            context.status.write("Train metrics generated.", kpi=train_kpi)
            if val_kpi:
                context.status.write("Eval metrics generated.", kpi=val_kpi)
            shown = " ".join(f"{key}={value:.4f}" for key, value in {**train_kpi, **val_kpi}.items())
            print(
                f"Epoch {epoch}/{num_epochs - 1}: step {state.global_step}/{max_step} lr={lr:.6g} {shown}",
                flush=True,
            )
    except BaseException:
        # Lightning saves a checkpoint when training stops on an exception or interrupt.
        keeper.save(_arrays(state, state.next_epoch), state.next_epoch, state.global_step)
        raise
    finally:
        writer.close()
    context.status.write("Training loop complete.")


def _initial_state(context: TaskContext, features: np.ndarray, num_classes: int, seed: int) -> TrainState:
    rng = np.random.default_rng(seed if seed >= 0 else None)
    model = Classifier.initial(features, num_classes, rng)
    optimizer = SGD(
        lr=float(context.get("train.optim.lr", 0.1)),
        momentum=float(context.get("train.optim.momentum", 0.9)),
        weight_decay=float(context.get("train.optim.weight_decay", 1e-4)),
        nesterov=bool(context.get("train.optim.nesterov", True)),
        grad_clip=float(context.get("train.grad_clip", 0.0)),
        velocity_weights=np.zeros_like(model.weights),
        velocity_bias=np.zeros_like(model.bias),
    )
    schedule = LearningRateSchedule(
        base_lr=optimizer.lr,
        kind=str(context.get("train.optim.lr_scheduler", "MultiStep")),
        steps=list(context.get("train.optim.lr_steps", [10, 60])),
        decay=float(context.get("train.optim.lr_decay", 0.1)),
        patience=int(context.get("train.optim.patience", 1)),
        min_lr=float(context.get("train.optim.min_lr", 1e-4)),
    )
    return TrainState(model, optimizer, schedule)


def _resume(state: TrainState, path: Path | None) -> None:
    if path is None:
        return
    arrays = checkpoints.load(path, CHECKPOINT_KIND)
    if arrays["weights"].shape != state.model.weights.shape:
        raise ValueError(
            f"checkpoint {path} has weights {arrays['weights'].shape}, "
            f"the spec needs {state.model.weights.shape}"
        )
    state.model = Classifier(arrays["weights"], arrays["bias"], arrays["feature_mean"], arrays["feature_std"])
    state.optimizer.velocity_weights = arrays["velocity_weights"]
    state.optimizer.velocity_bias = arrays["velocity_bias"]
    state.schedule.plateau_lr = float(arrays["plateau_lr"])
    state.schedule.best = float(arrays["plateau_best"])
    state.schedule.bad_epochs = int(arrays["plateau_bad_epochs"])
    state.next_epoch = int(arrays["epoch"]) + 1
    state.global_step = int(arrays["global_step"])
    print(f"Resuming training from {path} at epoch {state.next_epoch}, step {state.global_step}")


def _arrays(state: TrainState, epoch: int) -> dict[str, np.ndarray]:
    return {
        "weights": state.model.weights,
        "bias": state.model.bias,
        "feature_mean": state.model.feature_mean,
        "feature_std": state.model.feature_std,
        "velocity_weights": state.optimizer.velocity_weights,
        "velocity_bias": state.optimizer.velocity_bias,
        "plateau_lr": np.array(state.schedule.plateau_lr),
        "plateau_best": np.array(state.schedule.best),
        "plateau_bad_epochs": np.array(state.schedule.bad_epochs),
        "epoch": np.array(epoch),
        "global_step": np.array(state.global_step),
    }


def _log_epoch(
    writer: EventFileWriter,
    step: int,
    epoch: int,
    lr: float,
    train_kpi: dict[str, float],
    val_kpi: dict[str, float],
) -> None:
    writer.add_scalars({"lr-SGD": lr, "epoch": float(epoch)}, step)
    writer.add_scalars(
        {"train_loss_epoch": train_kpi["train_loss"], "train_acc_1": train_kpi["train_acc"]}, step
    )
    if val_kpi:
        writer.add_scalars({"val_loss": val_kpi["val_loss"], "val_acc@1": val_kpi["val_acc"]}, step)
    writer.flush()


def _write_hparams(context: TaskContext) -> None:
    path = context.results_dir / "lightning_logs" / "version_1" / "hparams.yaml"
    if not path.exists():
        path.write_text(yaml.safe_dump({"experiment_spec": context.cfg}, sort_keys=False), encoding="utf-8")

"""`sparse4d train`: AdamW on the anchor bank over sequence batches, with TAO's curves and checkpoints."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import checkpoints
from ..config import require
from ..runtime import TaskContext
from ..status import STARTED, epoch_progress
from ..tfevents import EventFileWriter
from .common import initial_anchors, run_predictions, spec_classes
from .infos import DepthReader, load_infos
from .model import CHECKPOINT_KIND, PARAMETERS, AdamW, AnchorModel, learning_rate, step_losses
from .sensors import observe

LATEST = "sparse4d_model_latest.pth"


@dataclass
class _State:
    model: AnchorModel
    optimizer: AdamW
    next_epoch: int = 0
    global_step: int = 0


@dataclass
class _Settings:
    num_epochs: int
    batch_size: int
    iterations: int
    interval: int
    interval_unit: str
    validation_interval: int
    base_lr: float
    warmup_iters: int
    warmup_ratio: float
    min_lr_ratio: float
    num_decoder: int
    cls_weight: float
    box_weight: float
    depth_weight: float

    @classmethod
    def read(cls, context: TaskContext) -> _Settings:
        batch_size = int(context.get("dataset.batch_size", 2))
        devices = len(context.gpu_ids) * int(context.get("train.num_nodes", 1))
        frames = int(context.get("dataset.num_frames", 200)) * int(context.get("dataset.num_bev_groups", 1))
        split_num = int(context.get("dataset.sequences.split_num", 100))
        assert split_num >= batch_size, (
            f"dataset.sequences.split_num ({split_num}) must be >= batch_size ({batch_size})"
        )
        return cls(
            num_epochs=int(context.get("train.num_epochs", 10)),
            batch_size=batch_size,
            iterations=max(1, frames // (devices * batch_size)),
            interval=int(context.get("train.checkpoint_interval", 1)),
            interval_unit=str(context.get("train.checkpoint_interval_unit", "epoch")),
            validation_interval=int(context.get("train.validation_interval", 1)),
            base_lr=float(context.get("train.optim.lr", 5e-5)),
            warmup_iters=int(context.get("train.optim.lr_scheduler.warmup_iters", 500)),
            warmup_ratio=float(context.get("train.optim.lr_scheduler.warmup_ratio", 1 / 3)),
            min_lr_ratio=float(context.get("train.optim.lr_scheduler.min_lr_ratio", 1e-3)),
            num_decoder=min(6, int(context.get("model.head.num_decoder", 6))),
            cls_weight=float(context.get("model.head.sampler.cls_weight", 2.0)),
            box_weight=float(context.get("model.head.sampler.box_weight", 0.25)),
            depth_weight=float(context.get("model.depth_branch.loss_weight", 0.2)),
        )


def train(context: TaskContext) -> None:
    """Train for num_epochs x num_iters_per_epoch steps, validating on dataset.val_dataset."""
    settings = _Settings.read(context)
    if settings.interval_unit == "epoch":
        assert settings.interval <= settings.num_epochs, (
            f"Checkpoint interval {settings.interval} > Number of epochs {settings.num_epochs}."
        )
    classes = spec_classes(context)
    infos = load_infos(
        str(require(context.cfg, "dataset.train_dataset.ann_file")), "dataset.train_dataset.ann_file"
    )
    frames = [observe(info, classes) for info in infos]
    labelled = sum(len(frame.labels) for frame in frames)
    if labelled == 0:
        print(f"WARNING: no ground-truth box has a class in dataset.classes {classes}; nothing to learn")
    depth = DepthReader(str(require(context.cfg, "dataset.data_root")))
    model = AnchorModel.initial(initial_anchors(context), len(classes))
    optimizer = AdamW.for_model(
        model,
        float(context.get("train.optim.weight_decay", 1e-3)),
        float(context.get("train.optim.grad_clip.max_norm", 25)),
    )
    state = _State(model, optimizer)
    keeper = checkpoints.CheckpointKeeper(context.results_dir, LATEST, CHECKPOINT_KIND)
    _resume(state, keeper.resume_path(context.get("train.resume_training_checkpoint_path")))
    max_steps = settings.iterations * settings.num_epochs
    print(
        f"Train set: {len(infos)} frames, {labelled} labelled boxes; "
        f"{settings.iterations} iterations per epoch"
    )
    writer = EventFileWriter(context.results_dir / "lightning_logs" / "version_1")
    epoch_pause = float(os.environ.get("TAODESK_STANDIN_EPOCH_SECONDS", "0") or 0)
    context.status.write("Starting Training Loop.", status=STARTED)
    try:
        for epoch in range(state.next_epoch, settings.num_epochs):
            started = time.time()
            sums: dict[str, float] = {}
            for _ in range(settings.iterations):
                lr = learning_rate(
                    state.global_step,
                    max_steps,
                    settings.base_lr,
                    settings.warmup_iters,
                    settings.warmup_ratio,
                    settings.min_lr_ratio,
                )
                batch = _batch(state.global_step, settings.batch_size, len(infos))
                depths = [
                    depth.mean_depth(cam["depth_map_path"])
                    for i in batch
                    for cam in infos[i]["cams"].values()
                ]
                losses = step_losses(
                    state.model,
                    [frames[i] for i in batch],
                    depths,
                    settings.num_decoder,
                    settings.cls_weight,
                    settings.box_weight,
                    settings.depth_weight,
                )
                state.optimizer.step(state.model, losses.gradients, lr)
                writer.add_scalars({"lr": lr, **losses.values}, state.global_step)
                state.global_step += 1
                for name, value in losses.values.items():
                    sums[name] = sums.get(name, 0.0) + value
                if settings.interval_unit == "step" and state.global_step % settings.interval == 0:
                    keeper.save(_arrays(state, epoch), epoch, state.global_step)
            kpi = {name: value / settings.iterations for name, value in sums.items()}
            kpi["lr"] = lr
            if (
                context.get("dataset.val_dataset.ann_file")
                and (epoch + 1) % settings.validation_interval == 0
            ):
                metrics = run_predictions(
                    context, state.model, "dataset.val_dataset.ann_file", context.results_dir / "val", True
                )
                metrics["val_mAP"] = metrics.get("img_bbox_NuScenes/mAP", 0.0)
                writer.add_scalars(metrics, state.global_step - 1)
                kpi.update(metrics)
            writer.add_scalar("epoch", float(epoch), state.global_step - 1)
            writer.flush()
            if epoch_pause > 0:
                time.sleep(epoch_pause)
            state.next_epoch = epoch + 1
            if settings.interval_unit == "epoch" and (epoch + 1) % settings.interval == 0:
                keeper.save(_arrays(state, epoch), epoch, state.global_step)
            keeper.end_of_epoch(_arrays(state, epoch))
            elapsed = time.time() - started
            progress = epoch_progress(
                epoch, state.global_step, settings.num_epochs, max_steps, elapsed, settings.iterations
            )
            context.status.write("Training loop in progress", data=progress, kpi=kpi)
            print(
                f"Epoch {epoch}/{settings.num_epochs - 1}: step {state.global_step}/{max_steps} "
                f"loss={kpi['loss']:.4f} val_mAP={kpi.get('val_mAP', float('nan')):.4f}",
                flush=True,
            )
    except BaseException:
        # Lightning saves a checkpoint when training stops on an exception or interrupt.
        keeper.save(_arrays(state, state.next_epoch), state.next_epoch, state.global_step)
        raise
    finally:
        writer.close()
    depth.close()
    context.status.write("Training loop complete.")


def _batch(step: int, batch_size: int, count: int) -> list[int]:
    """Consecutive frames per stream: stream b walks its own part of the (scene, time)-sorted infos."""
    stride = max(1, count // batch_size)
    return [(step + stream * stride) % count for stream in range(batch_size)]


def _arrays(state: _State, epoch: int) -> dict[str, np.ndarray]:
    arrays = {
        **state.model.as_arrays(),
        "epoch": np.array(epoch),
        "global_step": np.array(state.global_step),
        "optimizer_steps": np.array(state.optimizer.steps),
    }
    for name in PARAMETERS:
        arrays[f"adam_first.{name}"] = state.optimizer.first[name]
        arrays[f"adam_second.{name}"] = state.optimizer.second[name]
    return arrays


def _resume(state: _State, path: Path | None) -> None:
    if path is None:
        return
    arrays = checkpoints.load(path, CHECKPOINT_KIND)
    state.model = AnchorModel.from_arrays(arrays)
    for name in PARAMETERS:
        state.optimizer.first[name] = arrays[f"adam_first.{name}"]
        state.optimizer.second[name] = arrays[f"adam_second.{name}"]
    state.optimizer.steps = int(arrays["optimizer_steps"])
    state.next_epoch = int(arrays["epoch"]) + 1
    state.global_step = int(arrays["global_step"])
    print(f"Resuming training from {path} at epoch {state.next_epoch}, step {state.global_step}")

"""The console scripts TAO's images provide: pose_classification, sparse4d and annotations."""

from .runtime import Network, Subtask, run


def pose_classification(argv: list[str] | None = None) -> int:
    """`pose_classification {train,evaluate,inference,export,dataset_convert} -e spec.yaml [overrides]`."""
    from .pose.dataset_convert import dataset_convert
    from .pose.evaluate import evaluate
    from .pose.export import export
    from .pose.inference import inference
    from .pose.train import train

    subtasks: dict[str, Subtask] = {
        "train": train,
        "evaluate": evaluate,
        "inference": inference,
        "export": export,
        "dataset_convert": dataset_convert,
    }
    return run(Network("pose_classification", "Pose Classification", subtasks), argv)


def sparse4d(argv: list[str] | None = None) -> int:
    """`sparse4d {train,evaluate,inference,export,quantize} -e spec.yaml [overrides]`."""
    from .sparse4d.evaluate import evaluate
    from .sparse4d.export import export
    from .sparse4d.inference import inference
    from .sparse4d.quantize import quantize
    from .sparse4d.train import train

    subtasks: dict[str, Subtask] = {
        "train": train,
        "evaluate": evaluate,
        "inference": inference,
        "export": export,
        "quantize": quantize,
    }
    return run(Network("sparse4d", "Sparse4D", subtasks), argv)


def annotations(argv: list[str] | None = None) -> int:
    """`annotations convert -e spec.yaml [overrides]` (AICity -> OVPKL), writing into results_dir itself."""
    from .annotations.convert import convert

    return run(Network("annotations", "Annotations", {"convert": convert}, status_in_task_folder=False), argv)

"""What all stand-in tasks share: TAO's command line, results folder, status file, GPU choice, exit codes."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import numpy as np
import yaml

from .config import ConfigError, apply_override, load_spec, lookup, resolve_interpolations
from .status import FAILURE, RUNNING, STARTED, StatusLogger

GPU_TASKS = ("train", "evaluate", "inference", "distill")
EXIT_TERMINATED = 143


@dataclass
class TaskContext:
    """One run of one subtask: the resolved spec, where it writes and its status file."""

    network: str
    display_name: str
    task: str
    cfg: dict[str, Any]
    results_dir: Path
    status: StatusLogger
    gpu_ids: list[int] = field(default_factory=lambda: [0])

    def get(self, dotted: str, default: Any = None) -> Any:
        """A spec value by dotted key (None and absent both give default)."""
        value = lookup(self.cfg, dotted, default)
        return default if value is None else value


Subtask = Callable[[TaskContext], None]


@dataclass
class Network:
    """A console script: its name, the name it uses in status messages and its subtasks."""

    name: str
    display_name: str
    subtasks: dict[str, Subtask]
    status_in_task_folder: bool = True


class _Terminated(Exception):
    """SIGTERM arrived (docker stop)."""


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise _Terminated("terminated by SIGTERM")


def _hog_memory() -> np.ndarray | None:
    """Allocate and touch TAODESK_STANDIN_ALLOCATE_MB megabytes (for out-of-memory tests)."""
    megabytes = int(os.environ.get("TAODESK_STANDIN_ALLOCATE_MB", "0") or 0)
    if megabytes <= 0:
        return None
    print(f"Allocating {megabytes} MB", flush=True)
    return np.full(megabytes * 1024 * 1024, 1, dtype=np.uint8)


def _usage(network: Network) -> str:
    choices = ",".join(network.subtasks)
    return f"usage: {network.name} {{{choices}}} -e /path/spec.yaml [key=value ...]"


def _parse_args(network: Network, argv: list[str]) -> tuple[str, Path, list[str]]:
    subtask: str | None = None
    spec: str | None = None
    overrides: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg in ("-h", "--help"):
            print(_usage(network))
            raise SystemExit(0)
        if arg in ("-e", "--experiment_spec_file"):
            spec = next(args, None)
        elif arg.startswith("--experiment_spec_file="):
            spec = arg.split("=", 1)[1]
        elif subtask is None and "=" not in arg and not arg.startswith("-"):
            subtask = arg
        elif "=" in arg or arg.startswith("~"):
            overrides.append(arg)
        else:
            _fail_early(network, f"unrecognised argument '{arg}'")
    if subtask is None:
        _fail_early(network, "a subtask is required")
    if subtask not in network.subtasks:
        _fail_early(network, f"invalid subtask '{subtask}' (choose from {', '.join(network.subtasks)})")
    if not spec:
        _fail_early(network, "the experiment spec file (-e/--experiment_spec_file) is required")
    spec_path = Path(spec)
    if not spec_path.is_file():
        _fail_early(network, f"the experiment spec file {spec_path} does not exist")
    return subtask, spec_path, overrides


def _fail_early(network: Network, message: str) -> NoReturn:
    print(_usage(network))
    print(f"ERROR: {message}", flush=True)
    print("Execution status: FAIL", flush=True)
    raise SystemExit(1)


def select_gpus(cfg: dict[str, Any], task: str) -> list[int]:
    """TAO's GPU choice from `<task>.num_gpus`/`gpu_ids` (overrides already applied); the larger wins.

    Exports TAO_VISIBLE_DEVICES and writes the choice back into the spec, as TAO's entrypoint does.
    """
    section = cfg.get(task)
    if not isinstance(section, dict):
        section = cfg[task] = {}
    num_gpus = int(section.get("num_gpus") or 1)
    gpu_ids = [int(gpu) for gpu in (section.get("gpu_ids") or [0])]
    if num_gpus != len(gpu_ids):
        count = max(num_gpus, len(gpu_ids))
        num_gpus, gpu_ids = count, list(range(count))
    section["num_gpus"] = num_gpus
    section["gpu_ids"] = gpu_ids
    visible = ", ".join(str(gpu) for gpu in gpu_ids)
    os.environ["TAO_VISIBLE_DEVICES"] = visible
    print(f"Using {num_gpus} GPU(s): TAO_VISIBLE_DEVICES={visible} (the stand-in computes on the CPU)")
    return gpu_ids


def _results_dir(cfg: dict[str, Any], task: str, in_task_folder: bool) -> Path:
    """TAO's rule: `<task>.results_dir` if set, else `<results_dir>/<task>` (data services: results_dir)."""
    task_dir = lookup(cfg, f"{task}.results_dir")
    if in_task_folder and task_dir and task_dir != "???":
        return Path(task_dir)
    top = cfg.get("results_dir")
    if not top or top == "???":
        raise ConfigError(f"results_dir is not set: set results_dir or {task}.results_dir")
    return Path(top) / task if in_task_folder else Path(top)


def _failure_message(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, NotImplementedError):
        return f"Feature not implemented: {text}"
    if isinstance(error, OSError):
        return f"File system error: {text}"
    if isinstance(error, ConfigError | KeyError):
        return f"Configuration error: {text}"
    return f"Parameter validation error: {text}" if isinstance(error, ValueError | AssertionError) else text


def run(network: Network, argv: list[str] | None = None) -> int:
    """Run `<network> <subtask> -e spec.yaml [overrides]` and return the process exit code."""
    arguments = sys.argv[1:] if argv is None else argv
    try:
        subtask, spec_path, overrides = _parse_args(network, arguments)
    except SystemExit as exit_request:
        return int(exit_request.code or 0)
    memory = _hog_memory()
    try:
        cfg = load_spec(spec_path)
        for override in overrides:
            apply_override(cfg, override)
        cfg = resolve_interpolations(cfg)
        gpu_ids = select_gpus(cfg, subtask) if subtask in GPU_TASKS else [0]
        results_dir = _results_dir(cfg, subtask, network.status_in_task_folder)
        results_dir.mkdir(parents=True, exist_ok=True)
        cfg["results_dir"] = str(results_dir)
    except (ConfigError, OSError) as error:
        print(f"ERROR: {error}", flush=True)
        print("Execution status: FAIL", flush=True)
        return 1
    if network.status_in_task_folder:
        with open(results_dir / "experiment.yaml", "w", encoding="utf-8") as stream:
            yaml.safe_dump(cfg, stream, sort_keys=False)
    status = StatusLogger(results_dir / "status.json")
    context = TaskContext(network.name, network.display_name, subtask, cfg, results_dir, status, gpu_ids)
    signal.signal(signal.SIGTERM, _on_sigterm)
    status.write(f"Starting {network.display_name} {subtask}.", status=STARTED)
    try:
        network.subtasks[subtask](context)
    except (KeyboardInterrupt, _Terminated):
        status.write(f"User/System interruption: {subtask.capitalize()} was interrupted", status=FAILURE)
        print("Execution status: FAIL", flush=True)
        return EXIT_TERMINATED
    except Exception as error:
        traceback.print_exc()
        status.write(_failure_message(error), status=FAILURE, verbosity="ERROR")
        print(f"Error: {type(error).__name__}: {error}", flush=True)
        print("Execution status: FAIL", flush=True)
        return 1
    status.write(f"{subtask.capitalize()} finished successfully.", status=RUNNING)
    del memory
    print("Execution status: PASS", flush=True)
    return 0

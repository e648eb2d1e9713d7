"""The launch plan: from an action, its spec and a host to the exact container TAO Desk will create.

Paths are the host's: every folder the job reads is mounted read-only at the same path inside the
container, and the job's own folder read-write, so a path in the spec means the same thing on the host
and in the container, and converted artifacts that record absolute paths stay valid across jobs.
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass, field
from typing import Any

from app.core.jobs.model import Job
from app.core.skills.fields import MANDATORY
from app.core.skills.model import Skill
from app.core.specs.document import SpecDocument

STACK_BYTES = 67108864
_SYSTEM_DIRS = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib64",
    "/proc",
    "/sbin",
    "/sys",
    "/usr",
    "/var/lib/docker",
)
SECRET_KEYS = ("encryption_key",)
MASK = "********"


class LaunchError(ValueError):
    """The job cannot be launched as asked; the message says why in plain words."""


@dataclass(frozen=True)
class MountSpec:
    """One bind mount (same path on the host and in the container)."""

    path: str
    read_only: bool


@dataclass
class LaunchPlan:
    """Everything needed to create the job's container."""

    job: Job
    spec: SpecDocument
    spec_text: str
    command: list[str]
    mounts: list[MountSpec]
    environment: dict[str, str]
    user: str
    device_ids: list[str]
    labels: dict[str, str]
    shm_size: str
    working_dir: str
    memory_limit: str | None = None
    network_mode: str | None = None
    unlimited_memlock: bool = True
    warnings: list[str] = field(default_factory=list)

    def container_options(self) -> dict[str, Any]:
        """Keyword arguments for docker-py's ``containers.create`` (mounts as docker.types objects)."""
        from docker.types import DeviceRequest, Mount, Ulimit

        options: dict[str, Any] = {
            "command": self.command,
            "name": self.job.container_name,
            "labels": self.labels,
            "user": self.user,
            "environment": self.environment,
            "working_dir": self.working_dir,
            "mounts": [
                Mount(target=m.path, source=m.path, type="bind", read_only=m.read_only) for m in self.mounts
            ],
            "shm_size": self.shm_size,
            "ulimits": [
                Ulimit(name="stack", soft=STACK_BYTES, hard=STACK_BYTES),
            ],
            "detach": True,
            "auto_remove": False,
        }
        if self.unlimited_memlock:
            options["ulimits"].insert(0, Ulimit(name="memlock", soft=-1, hard=-1))
        if self.device_ids:
            options["device_requests"] = [DeviceRequest(device_ids=self.device_ids, capabilities=[["gpu"]])]
        if self.memory_limit:
            options["mem_limit"] = self.memory_limit
            options["memswap_limit"] = self.memory_limit
        if self.network_mode:
            options["network_mode"] = self.network_mode
        return options


def masked_spec(spec: SpecDocument) -> SpecDocument:
    """A copy with secrets hidden, for the job store and the screen."""
    shown = spec.copy()
    for key in SECRET_KEYS:
        if shown.get(key):
            shown.set(key, MASK)
    return shown


def _is_system_path(path: str) -> bool:
    normal = posixpath.normpath(path)
    return normal == "/" or any(normal == d or normal.startswith(d + "/") for d in _SYSTEM_DIRS)


def input_mounts(skill: Skill, action: str, spec: SpecDocument) -> list[MountSpec]:
    """Read-only mounts for every input path the spec names (a file's folder, or the folder itself)."""
    mounts: list[MountSpec] = []
    entry = skill.action(action)
    declared = dict(entry.inputs)
    for requirement in entry.requirements:
        declared.setdefault(requirement.spec_key, {"type": requirement.kind})
    for key, info in declared.items():
        value = spec.get(key)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, str) or not item.startswith("/") or item == MANDATORY:
                continue
            kind = info.get("type", "file") if isinstance(info, dict) else "file"
            folder = posixpath.normpath(item if kind == "folder" else posixpath.dirname(item))
            if _is_system_path(folder):
                raise LaunchError(
                    f"{key} = {item}: data under {folder} cannot be mounted into the container; "
                    "move it to a data folder"
                )
            mounts.append(MountSpec(folder, read_only=True))
    return mounts


def merge_mounts(mounts: list[MountSpec]) -> list[MountSpec]:
    """Drop mounts already covered by a mount of a parent folder with the same access; parents first."""
    unique: dict[str, bool] = {}
    for mount in mounts:
        unique[mount.path] = unique.get(mount.path, True) and mount.read_only
    ordered = sorted(unique.items(), key=lambda item: (item[0].count("/"), item[0]))
    kept: list[MountSpec] = []
    for path, read_only in ordered:
        covering = [m for m in kept if path == m.path or path.startswith(m.path.rstrip("/") + "/")]
        if covering and covering[-1].read_only == read_only:
            continue
        kept.append(MountSpec(path, read_only))
    return kept


def gpu_spec_keys(action: str, spec: SpecDocument) -> tuple[str | None, str | None]:
    """The spec keys holding the GPU count and ids for an action (``<action>.num_gpus``/``gpu_ids``)."""
    section = action if spec.has(f"{action}.num_gpus") or spec.has(f"{action}.gpu_ids") else None
    if section is None:
        return None, None
    return f"{section}.num_gpus", f"{section}.gpu_ids"


def apply_gpu_selection(action: str, spec: SpecDocument, host_gpus: list[int]) -> list[str]:
    """Point the spec at the chosen host GPUs; inside the container they are numbered 0..n-1."""
    count_key, ids_key = gpu_spec_keys(action, spec)
    if host_gpus and count_key and ids_key:
        spec.set(count_key, len(host_gpus))
        spec.set(ids_key, list(range(len(host_gpus))))
    return [str(i) for i in host_gpus]


def requested_gpu_count(action: str, spec: SpecDocument) -> int:
    """How many GPUs the spec asks for (TAO: the larger of num_gpus and len(gpu_ids))."""
    count_key, ids_key = gpu_spec_keys(action, spec)
    count = spec.get(count_key) if count_key else None
    ids = spec.get(ids_key) if ids_key else None
    values = [count if isinstance(count, int) else 0, len(ids) if isinstance(ids, list) else 0]
    return max(values)


def job_environment(job: Job, host_user: str, extra: dict[str, str]) -> dict[str, str]:
    """HOME, USER, LOGNAME and the cache folders inside the job folder, so a non-root UID works."""
    home = f"{job.job_dir}/.home"
    cache = f"{job.job_dir}/.cache"
    env = {
        "HOME": home,
        "USER": host_user,
        "LOGNAME": host_user,
        "XDG_CACHE_HOME": cache,
        "HF_HOME": f"{cache}/huggingface",
        "TORCH_HOME": f"{cache}/torch",
        "TRITON_CACHE_DIR": f"{cache}/triton",
        "TORCHINDUCTOR_CACHE_DIR": f"{cache}/inductor",
        "MPLCONFIGDIR": f"{cache}/matplotlib",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def command_for(skill: Skill, action: str, config_path: str) -> list[str]:
    """The action's command from skill_info with ``{config_path}`` filled in."""
    template = skill.action(action).command
    if not template:
        raise LaunchError(f"skill '{skill.name}' has no command for '{action}' in its skill_info.yaml")
    return [part.replace("{config_path}", config_path) for part in shlex.split(template)]


def build_plan(
    skill: Skill,
    job: Job,
    spec: SpecDocument,
    *,
    uid: int,
    gid: int,
    host_user: str,
    host_gpus: list[int],
    shm_size: str,
    extra_env: dict[str, str] | None = None,
    extra_mounts: list[MountSpec] | None = None,
    parent: Job | None = None,
    memory_limit: str | None = None,
    network_mode: str | None = None,
) -> LaunchPlan:
    """The container for a job whose spec already has its inferred parameters."""
    warnings: list[str] = []
    if uid == 0:
        warnings.append("the container runs as root because the host user is root")
    device_ids = apply_gpu_selection(job.action, spec, host_gpus)
    mounts = input_mounts(skill, job.action, spec)
    if parent is not None:
        mounts.append(MountSpec(parent.job_dir, read_only=True))
    mounts.extend(extra_mounts or [])
    mounts.append(MountSpec(job.job_dir, read_only=False))
    labels = {
        "taodesk.job": job.id,
        "taodesk.skill": skill.name,
        "taodesk.action": job.action,
        "taodesk.host": job.host,
    }
    if parent is not None:
        labels["taodesk.parent"] = parent.id
    return LaunchPlan(
        job=job,
        spec=spec,
        spec_text=spec.to_yaml(order=skill.action(job.action).template),
        command=command_for(skill, job.action, job.spec_path),
        mounts=merge_mounts(mounts),
        environment=job_environment(job, host_user, extra_env or {}),
        user=f"{uid}:{gid}",
        device_ids=device_ids,
        labels=labels,
        shm_size=shm_size,
        working_dir=job.results_dir,
        memory_limit=memory_limit,
        network_mode=network_mode,
        warnings=warnings,
    )

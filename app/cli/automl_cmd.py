"""``taodesk automl start|resume|status|pause|stop|best|list``: hyperparameter studies from the command line.

``start`` and ``resume`` run the study in the foreground until it ends; Ctrl-C lets go of it
(running trials keep running, ``resume`` picks them up). The other verbs work from any process
while a study runs elsewhere (in the GUI or another terminal).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
from typing import Any

from app.cli import UsageError
from app.cli.common import add_bank_option, find_skill, read_spec_or_usage
from app.cli.job_options import parse_gpus
from app.cli.jobs_common import format_duration, open_manager
from app.core.automl.engine import ALGORITHMS, PRUNERS, exact_preview_count, preview_proposals
from app.core.automl.scheduler import StudyScheduler
from app.core.automl.service import StudyConfigError, create_study, default_config, promote_best
from app.core.automl.snapshot import StudySnapshot, TrialRow, read_snapshot
from app.core.automl.space import SearchSpaceError
from app.core.automl.space_edits import apply_edits, search_only
from app.core.automl.study import StudyRecord, StudyRequest, StudyStore
from app.core.hosts.errors import HostError
from app.core.jobs.manager import JobManager
from app.core.jobs.plan import LaunchError
from app.core.specs.overrides import OverrideError
from app.core.specs.service import render_spec

_DIRECTIONS = {"min": "minimize", "minimize": "minimize", "max": "maximize", "maximize": "maximize"}


def register(sub: Any) -> None:
    """Add the ``automl`` command."""
    parser = sub.add_parser("automl", help="search hyperparameters: a study of train jobs")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    start = verbs.add_parser("start", help="create a study and run it in the foreground")
    start.add_argument("skill", metavar="SKILL")
    start.add_argument("--host", required=True, metavar="NAME")
    start.add_argument("--spec", metavar="FILE", help="base train spec (default: the template)")
    start.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a spec key")
    start.add_argument("--trials", type=int, default=10, metavar="N", help="trials besides the baseline")
    start.add_argument("--algorithm", choices=list(ALGORITHMS), default="tpe")
    start.add_argument("--pruner", choices=list(PRUNERS), default="median")
    start.add_argument("--metric", metavar="NAME", help="scalar or KPI to optimise (default: the skill's)")
    start.add_argument("--direction", choices=list(_DIRECTIONS), help="min or max")
    start.add_argument("--gpus", metavar="LIST", help="host GPUs for trials, e.g. 0,1,2,3 (default: none)")
    start.add_argument("--gpus-per-trial", type=int, metavar="N", help="default: the spec's train.num_gpus")
    start.add_argument("--parallel", type=int, default=1, metavar="N", help="trials at once without GPUs")
    start.add_argument(
        "--search",
        action="append",
        default=[],
        metavar="EDIT",
        help="KEY=LOW:HIGH[:log], KEY=A,B,C, KEY (search) or ~KEY (keep fixed)",
    )
    start.add_argument("--only", metavar="KEYS", help="search exactly these comma-separated keys")
    start.add_argument("--seed", type=int, metavar="N")
    start.add_argument("--startup-trials", type=int, metavar="N", help="random trials before the model")
    start.add_argument("--no-baseline", action="store_true", help="skip the trial with the spec's own values")
    start.add_argument("--name", default="", metavar="TEXT")
    start.add_argument("--preview", type=int, default=0, metavar="N", help="print the first N configurations")
    start.add_argument("--dry-run", action="store_true", help="check and preview, create nothing")
    start.add_argument("--poll", type=float, default=2.0, metavar="SECONDS", help=argparse.SUPPRESS)
    add_bank_option(start)
    start.set_defaults(handler=run_start)
    resume = verbs.add_parser("resume", help="continue a study in the foreground")
    resume.add_argument("study")
    resume.add_argument("--poll", type=float, default=2.0, metavar="SECONDS", help=argparse.SUPPRESS)
    resume.set_defaults(handler=run_resume)
    for verb, helptext, handler in (
        ("status", "a study's trials and best result", run_status),
        ("pause", "start no new trials (running ones go on)", run_pause),
        ("stop", "start no new trials; running ones finish (--cancel stops them)", run_stop),
        ("best", "the best trial; --promote launches a train job with its values", run_best),
    ):
        command = verbs.add_parser(verb, help=helptext)
        command.add_argument("study")
        command.set_defaults(handler=handler)
        if verb == "status":
            command.add_argument("--json", action="store_true", help="machine-readable output")
        if verb == "stop":
            command.add_argument("--cancel", action="store_true", help="also stop the running trials")
        if verb == "best":
            command.add_argument(
                "--promote", action="store_true", help="launch a train job with the best values"
            )
            command.add_argument("--epochs", type=int, metavar="N", help="train.num_epochs for that job")
            command.add_argument("--resume", action="store_true", help="continue the best trial's training")
            command.add_argument("--spec-out", metavar="FILE", help="write the best spec YAML here")
    listing = verbs.add_parser("list", help="every study, newest first")
    listing.set_defaults(handler=run_list)


def _open() -> tuple[JobManager, StudyStore]:
    manager = open_manager()
    return manager, StudyStore(manager.store)


def _record(studies: StudyStore, study_id: str) -> StudyRecord:
    try:
        return studies.get(study_id)
    except KeyError as exc:
        raise UsageError(str(exc).strip("'\"")) from exc


def _value(value: float | None) -> str:
    return "-" if value is None else (f"{value:.6g}" if math.isfinite(value) else str(value))


def _params(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def run_start(args: argparse.Namespace) -> int:
    """Create a study from the arguments and run it in the foreground."""
    manager = open_manager(args.bank)
    skill = find_skill(manager.bank, args.skill)
    base = read_spec_or_usage(args.spec) if args.spec else None
    try:
        spec = render_spec(skill, "train", base, args.set)
    except (OverrideError, KeyError) as exc:
        raise UsageError(str(exc).strip("'\"")) from exc
    config = default_config(skill, args.host, spec, trials=args.trials)
    try:
        if args.only:
            search_only(config.space, [p.strip() for p in args.only.split(",") if p.strip()])
        apply_edits(config.space, args.search)
    except SearchSpaceError as exc:
        raise UsageError("bad search space:\n  " + "\n  ".join(exc.problems)) from exc
    config.algorithm, config.pruner, config.name = args.algorithm, args.pruner, args.name
    config.metric = args.metric or config.metric
    config.direction = _DIRECTIONS[args.direction] if args.direction else config.direction
    config.gpus = parse_gpus(args.gpus)
    config.gpus_per_trial = args.gpus_per_trial or config.gpus_per_trial
    config.parallel, config.baseline = args.parallel, not args.no_baseline
    config.seed = args.seed if args.seed is not None else config.seed
    config.startup_trials = args.startup_trials or config.startup_trials
    studies = StudyStore(manager.store)
    print(f"Searching {', '.join(f'{p.path} {p.describe()}' for p in config.space.searched)}")
    print(
        f"{config.trials} trials{' + baseline' if config.baseline else ''}, {ALGORITHMS[config.algorithm]}, "
        f"{config.metric} ({config.direction}), {config.slots} at a time on '{config.host}'"
    )
    if args.preview or args.dry_run:
        _print_preview(config, spec, args.preview or 5)
    if args.dry_run:
        return 0
    try:
        created = create_study(manager, studies, config)
    except StudyConfigError as exc:
        raise UsageError("the study cannot start:\n  " + "\n  ".join(exc.problems)) from exc
    for note in created.notes:
        print(f"note: {note}")
    print(f"Study {created.record.id}", flush=True)
    return _run_foreground(manager, studies, created.record.id, args.poll)


def _print_preview(config: Any, spec: Any, count: int) -> None:
    settings = config.engine_settings()
    exact = exact_preview_count(settings, config.trials + (1 if config.baseline else 0))
    try:
        proposals = preview_proposals(config.space, settings, spec, min(count, exact))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    print("First configurations:")
    for proposal in proposals:
        label = "baseline" if proposal.baseline else f"trial {proposal.number}"
        note = f"  ({proposal.infeasible})" if proposal.infeasible else ""
        print(f"  {label:>9}  {_params(proposal.values)}{note}")
    if count > exact:
        print(f"  (later configurations depend on the first {exact} results)")


def _run_foreground(manager: JobManager, studies: StudyStore, study_id: str, poll: float) -> int:
    scheduler = StudyScheduler(manager, studies, study_id, poll_seconds=poll)
    seen: dict[int, str] = {}

    def on_changed(_study: str) -> None:
        _print_changes(read_snapshot(studies, study_id), seen)

    scheduler.changed.connect(on_changed)
    halt = threading.Event()
    try:
        record = scheduler.run(halt)
    except KeyboardInterrupt:
        halt.set()
        print(
            f"\nLet go of study {study_id}; running trials keep running. "
            f"Continue with: taodesk automl resume {study_id}"
        )
        return 130
    except RuntimeError as exc:
        print(f"taodesk: {exc}", file=sys.stderr)
        return 1
    snapshot = read_snapshot(studies, study_id)
    _print_changes(snapshot, seen)
    print(f"Study {record.id} {record.state.value}" + (f": {record.message}" if record.message else ""))
    _print_best(snapshot)
    return 0 if record.state.value in ("finished", "stopped") else 1


def _print_changes(snapshot: StudySnapshot, seen: dict[int, str]) -> None:
    best = snapshot.best
    for trial in snapshot.trials:
        if seen.get(trial.number) == trial.state or trial.state == "waiting":
            continue
        seen[trial.number] = trial.state
        label = "baseline" if trial.baseline else f"trial {trial.number}"
        if trial.state == "running":
            gpus = f" on GPUs {','.join(map(str, trial.gpus))}" if trial.gpus else ""
            print(f"{label} started{gpus}: {_params(trial.params)} (job {trial.job_id})", flush=True)
            continue
        mark = " (best so far)" if best is not None and best.number == trial.number else ""
        metric = snapshot.record.config.metric
        value = f" {metric}={_value(trial.last_value)}" if trial.last_value is not None else ""
        note = f": {trial.note}" if trial.note else ""
        print(f"{label} {trial.state}{value}{mark}{note}", flush=True)


def _print_best(snapshot: StudySnapshot) -> None:
    best, baseline = snapshot.best, snapshot.baseline
    metric = snapshot.record.config.metric
    if best is None:
        print("No completed trial yet.")
        return
    print(
        f"Best: trial {best.number} {metric}={_value(best.value)} {_params(best.params)} (job {best.job_id})"
    )
    if baseline is not None and baseline.value is not None:
        print(f"Baseline: {metric}={_value(baseline.value)} {_params(baseline.params)}")


def run_resume(args: argparse.Namespace) -> int:
    """Continue a study: ask its live scheduler, or run it here in the foreground."""
    manager, studies = _open()
    record = _record(studies, args.study)
    if record.owner_alive():
        studies.request(record.id, StudyRequest.RESUME)
        print(f"Study {record.id} is run by {record.owner}; asked it to resume.")
        return 0
    studies.request(record.id, StudyRequest.RESUME)
    return _run_foreground(manager, studies, record.id, args.poll)


def run_status(args: argparse.Namespace) -> int:
    """Print a study's state and trials (bringing them up to date when nobody runs it)."""
    manager, studies = _open()
    record = _record(studies, args.study)
    if not record.state.is_final and not record.owner_alive():
        try:
            StudyScheduler(manager, studies, record.id).refresh_once()
        except (RuntimeError, HostError) as exc:
            print(f"(could not bring the trials up to date: {exc})", file=sys.stderr)
    snapshot = read_snapshot(studies, record.id)
    if args.json:
        print(json.dumps(_as_json(snapshot), indent=2, default=str))
        return 0
    _print_status(snapshot)
    return 0


def _print_status(snapshot: StudySnapshot) -> None:
    record, config = snapshot.record, snapshot.record.config
    owner = f"run by {record.owner}" if record.owner_alive() else "not running"
    if not record.owner_alive() and not record.state.is_final:
        owner += f" (continue with: taodesk automl resume {record.id})"
    print(f"study     {record.id}{f' ({config.name})' if config.name else ''}")
    print(f"skill     {config.skill} on '{config.host}'")
    print(f"state     {record.state.value}, {owner}")
    if record.message:
        print(f"message   {record.message}")
    print(
        f"search    {ALGORITHMS.get(config.algorithm, config.algorithm)}, pruner {config.pruner}, "
        f"{config.metric} ({config.direction})"
    )
    counts = ", ".join(f"{n} {s}" for s, n in snapshot.counts.items() if n)
    print(f"trials    {snapshot.done}/{snapshot.budget} done ({counts or 'none yet'})")
    print("\t".join(("#", "state", config.metric, "duration", "gpus", "job", "parameters")))
    for trial in snapshot.trials:
        if trial.counted:
            print(_trial_line(trial))
    _print_best(snapshot)


def _trial_line(trial: TrialRow) -> str:
    number = f"{trial.number}{'b' if trial.baseline else ''}"
    gpus = ",".join(map(str, trial.gpus)) or "-"
    note = f"  # {trial.note}" if trial.note else ""
    return (
        "\t".join(
            (
                number,
                trial.state,
                _value(trial.last_value),
                format_duration(trial.duration),
                gpus,
                trial.job_id or "-",
                _params(trial.params),
            )
        )
        + note
    )


def _as_json(snapshot: StudySnapshot) -> dict[str, Any]:
    best = snapshot.best
    return {
        "id": snapshot.record.id,
        "state": snapshot.record.state.value,
        "message": snapshot.record.message,
        "metric": snapshot.record.config.metric,
        "direction": snapshot.record.config.direction,
        "budget": snapshot.budget,
        "counts": snapshot.counts,
        "best": None
        if best is None
        else {"trial": best.number, "value": best.value, "params": best.params, "job": best.job_id},
        "trials": [
            {
                "number": t.number,
                "state": t.state,
                "value": t.value,
                "params": t.params,
                "intermediate": t.intermediate,
                "job": t.job_id,
                "gpus": t.gpus,
                "baseline": t.baseline,
                "note": t.note,
            }
            for t in snapshot.trials
            if t.counted
        ],
    }


def run_pause(args: argparse.Namespace) -> int:
    """Ask a study to start no new trials."""
    _, studies = _open()
    record = studies.request(_record(studies, args.study).id, StudyRequest.PAUSE)
    print(f"Study {record.id}: pause requested ({record.state.value})")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    """Ask a study to stop (running trials finish) or, with --cancel, to stop them too."""
    manager, studies = _open()
    record = _record(studies, args.study)
    request = StudyRequest.CANCEL if args.cancel else StudyRequest.STOP
    record = studies.request(record.id, request)
    if not record.owner_alive() and not record.state.is_final:
        try:
            record = StudyScheduler(manager, studies, record.id).refresh_once()
        except (RuntimeError, HostError) as exc:
            print(f"taodesk: {exc}", file=sys.stderr)
            return 1
    print(f"Study {record.id}: {request.value} requested ({record.state.value})")
    return 0


def run_best(args: argparse.Namespace) -> int:
    """Print the best trial; optionally write its spec or launch a train job with it."""
    manager, studies = _open()
    record = _record(studies, args.study)
    snapshot = read_snapshot(studies, record.id)
    if snapshot.best is None:
        print(f"Study {record.id} has no completed trial yet.", file=sys.stderr)
        return 1
    _print_best(snapshot)
    if args.spec_out:
        from app.cli.common import write_output
        from app.core.automl.service import best_spec

        spec, _, _ = best_spec(studies, record.id, args.epochs)
        write_output(
            spec.to_yaml(order=manager.bank.skill(record.config.skill).action("train").template),
            args.spec_out,
        )
    if args.promote:
        if args.resume and not args.epochs:
            raise UsageError("--resume continues training: give the new total with --epochs N")
        try:
            job = promote_best(manager, studies, record.id, epochs=args.epochs, resume=args.resume)
        except (LaunchError, HostError, ValueError) as exc:
            print(f"taodesk: {exc}", file=sys.stderr)
            return 1
        print(f"Launched job {job.id} with the best values (parent {job.parent_id})")
    return 0


def run_list(_args: argparse.Namespace) -> int:
    """Print every study."""
    _, studies = _open()
    records = studies.all()
    if not records:
        print("No studies yet: taodesk automl start SKILL --host NAME")
    for record in records:
        config = record.config
        print(
            f"{record.id}\t{config.skill.removeprefix('tao-train-')}\t{record.state.value}\t{config.host}\t"
            f"{config.trials} trials\t{config.metric} ({config.direction})\t{config.name}"
        )
    return 0

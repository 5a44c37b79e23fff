"""Phase 1 of a sweep: every synthetic pool of a plan, read from the cache or built once.

A classic sampler's pool takes milliseconds, less than starting a Ray worker, so the driver
builds it; a generator that trains a model gets a Ray task (a GPU where there is one). The
sweep, the tests and bench/ all get their pools here.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ray
from ray.util.queue import Queue
from tqdm.auto import tqdm

from synthscale.config import ResourcesConfig
from synthscale.errors import SamplerFailure
from synthscale.samplers import make_sampler, sampler_trains_model
from synthscale.sweep.plan import SweepPlan
from synthscale.sweep.pools import PoolCache, PoolSlot, PoolSpec, SyntheticPool, build_pool, pool_key
from synthscale.sweep.workers import WorkerResources, build_pool_on_workers

log = logging.getLogger(__name__)

PROGRESS_POLL_SECONDS = 0.5  # how often the driver looks at the trainings' progress
Missing = list[tuple[str, PoolSpec]]  # (key, spec) of pools the cache does not hold
Failures = dict[PoolSlot, str]  # slot -> why its sampler could not make the rows


def build_pools(
    plan: SweepPlan,
    cache_dir: Path,
    show_progress: bool = False,
    failures: Failures | None = None,
) -> dict[PoolSlot, SyntheticPool]:
    """Every pool of the plan by slot. A trained generator serves both tasks of a replicate,
    so the first pool of each (sampler, seed, data access) is built before the others, which
    then load its model instead of training it again (a model learns the rows its data
    access shows, so each access trains its own). With `failures` (generator.on_failure:
    record) a sampler that cannot make its rows leaves its slot out of the pools and its
    message in `failures`, and the others are still built; without, it stops the build."""
    cache, generator = PoolCache(cache_dir), plan.config.generator
    pools, missing = {}, []
    for spec in plan.pool_specs:
        key = pool_key(spec, plan.datasets[spec.dataset], plan.split_of(spec), generator)
        cached = cache.read(key, spec)
        if cached is None:
            missing.append((key, spec))
        else:
            pools[spec.slot] = cached
    with tqdm(
        total=len(plan.pool_specs), initial=len(pools), desc="synthetic pools", disable=not show_progress
    ) as bar:
        for _, spec in [(key, spec) for key, spec in missing if not sampler_trains_model(spec.sampler)]:
            try:
                pool = build_pool(spec, plan.datasets[spec.dataset], plan.split_of(spec), generator)
            except SamplerFailure as exc:
                _record_failure(failures, spec, exc)
            else:
                pools[spec.slot] = cache.store(pool)
            bar.update()
        trained = [(key, spec) for key, spec in missing if sampler_trains_model(spec.sampler)]
        if trained:
            for spec, pool in _build_on_ray(plan, trained, show_progress, failures):
                if pool is not None:
                    pools[spec.slot] = cache.store(pool)
                bar.update()
    return pools


def _pool_or_failure(ref: ray.ObjectRef, spec: PoolSpec, failures: Failures | None) -> SyntheticPool | None:
    try:
        pool, warnings = ray.get(ref)
    except SamplerFailure as exc:  # Ray's task error is also an instance of the sampler's
        _record_failure(failures, spec, exc)
        return None
    for message in warnings:
        log.warning("%s (building the %s pool of %s, %s, seed %d)",
                    message, spec.sampler, spec.dataset, spec.task, spec.seed)  # fmt: skip
    return pool


class _KeptWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def with_warnings(build: Callable[..., SyntheticPool], *args: Any) -> tuple[SyntheticPool, list[str]]:
    """A pool build in a Ray task, with the warnings synthscale logged meanwhile (a corrupt
    cache entry, a model retrained): Ray keeps a task's log with its worker (the sweep joins
    Ray with log_to_driver off), so the driver logs them again."""
    kept, logger = _KeptWarnings(), logging.getLogger("synthscale")
    logger.addHandler(kept)
    try:
        return build(*args), kept.messages
    finally:
        logger.removeHandler(kept)


def _record_failure(failures: Failures | None, spec: PoolSpec, exc: SamplerFailure) -> None:
    """Keep the sampler's message for the slot's fits, or raise it when the sweep stops on one."""
    if failures is None:
        raise exc
    message = str(getattr(exc, "cause", None) or exc)  # a Ray task's error wraps the sampler's
    failures[spec.slot] = message
    log.warning("%s on %s, seed %d: %s (recorded; generator.on_failure=record)",
                spec.sampler, spec.dataset, spec.seed, message)  # fmt: skip


def _build_on_ray(
    plan: SweepPlan, missing: Missing, show_progress: bool, failures: Failures | None
) -> Iterator[tuple[PoolSpec, SyntheticPool | None]]:
    """Each pool as its Ray task finishes (None for one recorded in `failures`): the first
    wave trains the models, the second loads them. Meanwhile a bar over every training step
    shows the trainings' progress and loss."""
    datasets = {name: ray.put(dataset) for name, dataset in plan.datasets.items()}
    shares = builds_per_gpu(plan)
    steps = Queue(actor_options={"num_cpus": 0})  # (model, steps done, steps in all, loss)
    bar = tqdm(total=0, desc="training generators", unit="step", disable=not show_progress)
    done_steps: dict[str, tuple[int, int]] = {}  # model -> (steps done, steps in all)
    try:
        for wave in model_waves(missing):
            specs = {
                _submit_pool(
                    spec, datasets[spec.dataset], plan, shares[spec.sampler], TrainingSteps(steps, spec)
                ): spec
                for _, spec in wave
            }
            running = list(specs)
            while running:
                finished, running = ray.wait(running, num_returns=1, timeout=PROGRESS_POLL_SECONDS)
                _show_training_steps(bar, steps, done_steps)
                for ref in finished:
                    yield specs[ref], _pool_or_failure(ref, specs[ref], failures)
    finally:
        bar.close()
        ray.kill(steps.actor)


class TrainingSteps:
    """Passed to a remote pool build: forwards its training steps to the driver, at most about
    once a second (and the first and last step at once). Fire and forget: a task that waited on
    the queue (ray.get) would hand its CPUs back meanwhile, and Ray would start the next
    training beside it on the same cores."""

    def __init__(self, queue, spec: PoolSpec) -> None:
        self.queue, self.last = queue, 0.0
        self.model = f"{spec.sampler} {spec.dataset} seed{spec.seed} access={spec.data_access}"

    def __call__(self, step: int, total: int, loss: float) -> None:
        now = time.monotonic()
        if step in (0, 1, total) or now - self.last >= 1.0:
            self.last = now
            with contextlib.suppress(Exception):  # progress is a courtesy: never fail a build for it
                self.queue.actor.put_nowait.remote((self.model, step, total, loss))


def _show_training_steps(bar: tqdm, steps, done_steps: dict[str, tuple[int, int]]) -> None:
    """Advance the bar by what the trainings reported since the last look; a training that
    stopped early takes its remaining steps off the bar's total."""
    while not steps.empty():
        model, step, total, loss = steps.get_nowait()
        done, known_total = done_steps.get(model, (0, 0))
        bar.total += total - known_total
        bar.update(step - done)
        done_steps[model] = (step, total)
        bar.set_postfix_str(f"{model}: loss {loss:.3f}" if step else f"{model}: started", refresh=False)


def model_waves(missing: Missing) -> tuple[Missing, Missing]:
    """First wave: one pool per (dataset, sampler, seed, data access); second wave: the
    others, which load the model the first wave trained."""
    first, later, leaders = [], [], set()
    for key, spec in missing:
        group = (spec.dataset, spec.sampler, spec.seed, spec.data_access)
        if group in leaders:
            later.append((key, spec))
        else:
            leaders.add(group)
            first.append((key, spec))
    return first, later


def _submit_pool(
    spec: PoolSpec,
    dataset: ray.ObjectRef,
    plan: SweepPlan,
    builds: int,
    on_training_step: TrainingSteps | None = None,
) -> ray.ObjectRef:
    """A generator that trains a model takes a GPU when the cluster has one, else a whole
    node's CPUs (torch threads follow OMP_NUM_THREADS); with generator_workers > 1 it is
    built by that many Ray Train workers, which share those."""
    split, generator = plan.split_of(spec), plan.config.generator
    resources = generator_resources(plan.config.resources, builds)
    if resources.workers > 1:
        task = ray.remote(num_cpus=0)(with_warnings)
        return task.remote(
            build_pool_on_workers, spec, dataset, split, generator, resources, on_training_step
        )
    threads = {"env_vars": {"OMP_NUM_THREADS": str(int(resources.cpus))}}
    task = ray.remote(num_cpus=resources.cpus, num_gpus=resources.gpus, runtime_env=threads)(with_warnings)
    return task.remote(build_pool, spec, dataset, split, generator, on_training_step)


def builds_per_gpu(plan: SweepPlan) -> dict[str, int]:
    """Each model-training sampler of the plan: how many of its pool builds share one GPU."""
    trained = {spec.sampler for spec in plan.pool_specs if sampler_trains_model(spec.sampler)}
    return {name: make_sampler(name, plan.config.generator).builds_per_gpu for name in sorted(trained)}


def generator_resources(resources: ResourcesConfig, builds_per_gpu: int) -> WorkerResources:
    """What each process building a trained generator's pool reserves: the settings, or with
    generator_gpus auto 1/builds_per_gpu of one GPU (the sampler's `builds_per_gpu`: several
    builds of a small model share one) where the cluster has GPUs, else a whole node's CPUs
    shared among the workers."""
    gpus = resources.generator_gpus
    if gpus == "auto":
        gpus = 1 / builds_per_gpu if ray.cluster_resources().get("GPU", 0) > 0 else 0.0
    workers = resources.generator_workers
    cpus = resources.generator_cpus or (1 if gpus else max(1, largest_node_cpus() // workers))
    return WorkerResources(workers, cpus, gpus)


def largest_node_cpus() -> int:
    nodes = [node["Resources"].get("CPU", 0) for node in ray.nodes() if node["Alive"]]
    return max(1, int(max(nodes, default=1)))

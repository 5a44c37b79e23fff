"""One generator on several workers: a pool built data-parallel through Ray Train.

With `resources.generator_workers` = W > 1, a pool whose sampler trains a model is built by W
Ray Train workers (`TorchTrainer`: gloo between CPU workers, NCCL between GPU ones), each
running the same `build_pool` inside the process group Ray Train set up. accelerate picks that
group up: training averages the gradients of the W slices of each global batch, and sampling
splits each target's batches over the workers and gathers them in batch order, so the rows are
those one worker would sample from the same model. Worker 0 writes the model to the cache and
hands the pool back through a queue to the task that launched the trainer, which holds no CPU
of its own while it waits (it would otherwise keep the workers' CPUs from them).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import ray
from ray.util.queue import Queue

from synthscale.config import GeneratorConfig
from synthscale.data.schema import Dataset
from synthscale.errors import SynthscaleError
from synthscale.splits import Split
from synthscale.sweep.pools import PoolSpec, SyntheticPool, build_pool

RESULT_WAIT_SECONDS = 60  # after the trainer returns, worker 0's pool is already queued


@dataclass(frozen=True)
class WorkerResources:
    """What each of `workers` processes building one generator's pool reserves."""

    workers: int
    cpus: float
    gpus: float


def build_pool_on_workers(
    spec: PoolSpec,
    dataset: Dataset,
    split: Split,
    generator: GeneratorConfig,
    resources: WorkerResources,
    on_training_step: Callable[[int, int, float], None] | None = None,
) -> SyntheticPool:
    """The pool `build_pool` returns, built by `resources.workers` Ray Train workers."""
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    results = Queue(actor_options={"num_cpus": 0})
    per_worker = {"CPU": resources.cpus, **({"GPU": resources.gpus} if resources.gpus else {})}
    trainer = TorchTrainer(
        _worker_loop,
        train_loop_config={
            "spec": spec,
            "dataset": [ray.put(dataset)],  # in a list: each worker fetches it, not the trainer
            "split": split,
            "generator": generator,
            "on_training_step": on_training_step,
            "results": results,
        },
        scaling_config=ScalingConfig(
            num_workers=resources.workers, use_gpu=resources.gpus > 0, resources_per_worker=per_worker
        ),
        run_config=RunConfig(name=f"synthscale-{spec.sampler}-seed{spec.seed}-{uuid.uuid4().hex[:8]}"),
    )
    try:
        trainer.fit()
        return results.get(timeout=RESULT_WAIT_SECONDS)
    except Exception as exc:
        raise SynthscaleError(
            f"generator {spec.sampler} (seed {spec.seed}, {spec.task}) on {resources.workers} Ray Train "
            f"workers failed: {exc}; with resources.generator_workers=1 it builds in one process"
        ) from exc
    finally:
        ray.kill(results.actor)


def _worker_loop(config: dict) -> None:
    """Every worker builds the pool; worker 0 alone reports training steps and returns it."""
    from ray.train import get_context

    first = get_context().get_world_rank() == 0
    pool = build_pool(
        config["spec"],
        ray.get(config["dataset"][0]),
        config["split"],
        config["generator"],
        config["on_training_step"] if first else None,
    )
    if first:
        config["results"].put(pool)

"""What lets a window run while the robot acts and learns: a world that reports every physics
step, and a worker thread for learning rounds."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable

from envs.world import GraspWorld, WorldConfig

log = logging.getLogger(__name__)


class LiveWorld(GraspWorld):
    """A `GraspWorld` that calls `on_step(dt_s)` after every physics step.

    A window uses the hook to draw the grasp, the lift and the push as they happen and to
    keep its event queue drained; with no hook it behaves exactly like `GraspWorld`. It relies
    on every phase of `GraspWorld` stepping the physics through `GraspWorld._step`; rendering
    from the hook does not change the physics (tested).
    """

    def __init__(self, config: WorldConfig | None = None):
        super().__init__(config)
        self.on_step: Callable[[float], None] | None = None

    def _step(self) -> None:
        super()._step()
        if self.on_step is not None:
            self.on_step(self.config.timestep_s)


class BackgroundLearner:
    """Runs one job at a time (learning rounds, a checkpoint) in a worker thread."""

    def __init__(self):
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self, job: Callable[[], None]) -> None:
        self.wait()
        self._thread = threading.Thread(target=self._run, args=(job,), name="robot-learning",
                                        daemon=True)
        self._thread.start()

    def _run(self, job: Callable[[], None]) -> None:
        _lower_priority()
        try:
            job()
        except BaseException as err:  # handed to the main thread by `wait`
            self._error = err

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self) -> None:
        """Block until the current job ends; re-raise its error in the caller's thread."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def _lower_priority(steps: int = 10) -> None:
    """Make the calling thread yield the CPU to the window's thread (Linux: per-thread nice).

    Elsewhere threads share one priority and this does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + steps)
    except OSError as err:
        log.debug("learning thread keeps its priority: %s", err)

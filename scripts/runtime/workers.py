"""Run the steps' jobs in long-lived worker processes: a local run's speed.

With the default profile's ``force-use-threads`` Snakemake runs each job of a
``run:`` rule as a thread of its own process. Its scheduler and the jobs then
share one interpreter lock, and the scheduler (a few ms per job) ends up
waiting for the jobs and they for it. Here each job thread hands its step to
an idle worker process instead and waits for the answer without holding the
lock: the scheduler keeps one core, the workers the others. A worker is
started once per run (it imports the step modules once), reads requests on
its standard input and answers on its standard output.

Only a local run's main Snakemake process uses workers (``job_processes`` in
the config); a cluster job, or a job Snakemake started as its own process,
runs the step in place (:func:`run_jobs` without a pool): the same function
on the same arguments.

Protocol: each message is an 8-byte big-endian length and a pickle. Request:
``(jobs, cache)``: a list of ``(function, input, output, params, log)``, run
in order (one job of a step rule, or with ``fuse_steps`` an image's five
steps), and None or ``(cache folder, image id)`` for an image's steps run
incrementally (:mod:`scripts.runtime.stepcache`). ``function`` is a step's
entry point (``scripts.steps.<step>.run``, pickled by its name) and the
rule's named lists come as :class:`Arguments`. Answer: ``("ok",
None)`` or ``("error", exception)``.
"""

from __future__ import annotations

import atexit
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback

from scripts.runtime.jobs import StepError

#: Bytes of decoded TIFFs a worker keeps for the next step of the same image
#: (scripts.imaging.WrittenTiffs): an image's five outputs at 2,000 x 2,000.
KEEP_WRITTEN_BYTES = 64 * 2**20
#: Seconds between a worker's checks that the Snakemake process that started
#: it is still alive (a worker of a killed run exits on its own).
PARENT_CHECK_S = 0.2
_LENGTH = struct.Struct(">Q")


class Arguments(list):
    """A rule's ``input``, ``output``, ``params`` or ``log`` as plain data:
    the items in order, and the named ones also as attributes (what the
    steps' ``run()`` entry points read, e.g. ``output.mask``, ``log[0]``)."""

    def __init__(self, items=(), names=None):
        super().__init__(items)
        self.__dict__.update(names or {})

    def items(self):
        """(name, value) of the named items, as Snakemake's named lists."""
        return self.__dict__.items()


def _plain(value):
    """`value` without Snakemake's types: str for file names (a subclass
    of str), lists for named lists; everything else as it is."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def plain_arguments(named_list):
    """A Snakemake named list (``input``, ``output``, ...) as
    :class:`Arguments`, picklable and detached from Snakemake."""
    return Arguments(
        [_plain(item) for item in named_list],
        {name: _plain(value) for name, value in named_list.items()},
    )


class WorkerError(RuntimeError):
    """A worker process died or answered nonsense while running a job."""


class WorkerStartError(WorkerError):
    """No worker process could be started."""


class Worker:
    """One worker process and its pipes; used by one job at a time."""

    def __init__(self, project_root):
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            [project_root] + [p for p in [environment.get("PYTHONPATH")] if p]
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scripts.runtime.workers", str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
        )

    def call(self, jobs, cache=None):
        """Run `jobs`, a list of ``(function, input, output, params, log)``,
        in the worker, in order (see :func:`run_jobs`); return once they are
        done, raise what the first failed one raised."""
        try:
            _send(self.process.stdin, (jobs, cache))
            status, payload = _receive(self.process.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as error:
            names = [step_name(job[0]) for job in jobs]
            steps = names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}"
            params = jobs[0][3]
            source = params.source if hasattr(params, "source") else jobs[0][2][0]
            raise WorkerError(
                f"the worker process (pid {self.process.pid}) running the {steps} "
                f"step{'s' if len(names) > 1 else ''} for {source} {self._ending()} "
                f"({error or type(error).__name__})"
            ) from None
        if status == "error":
            raise payload

    def _ending(self):
        """How the worker process ended, in words."""
        try:
            returncode = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return "stopped answering and was killed"
        if returncode < 0:
            return f"was killed by signal {-returncode} ({signal.Signals(-returncode).name})"
        return f"exited with status {returncode}"

    def alive(self):
        return self.process.poll() is None

    def close(self):
        """Let the worker finish and exit (end of its input)."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class WorkerPool:
    """Up to `processes` workers, each started when a job first needs it
    and reused by the jobs after it; a worker that died is replaced.

    A job goes to the idle worker that ran the previous job of the same
    image when there is one: that worker still has the image's last TIFF
    in memory (scripts.imaging.WrittenTiffs).
    """

    def __init__(self, processes, project_root):
        if processes < 1:
            raise ValueError(f"a worker pool needs at least 1 process, got {processes}")
        self.project_root = str(project_root)
        self._idle = [None] * processes  # None: a worker not started yet
        self._last_image = {}  # worker -> image id of its last job
        self._workers = []
        self._cannot_start = None  # the WorkerStartError, once one happened
        self._changed = threading.Condition()
        atexit.register(self.close)

    def _take(self, image):
        with self._changed:
            while not self._idle:
                self._changed.wait()
            worker = next(
                (w for w in self._idle if w is not None and self._last_image.get(w) == image),
                self._idle[-1],
            )
            self._idle.remove(worker)
        if worker is None or not worker.alive():
            try:
                worker = Worker(self.project_root)
            except OSError as error:
                self._give_back(None, None)
                raise WorkerStartError(
                    f"cannot start a worker process ({sys.executable}): {error}"
                ) from error
            with self._changed:
                self._workers.append(worker)
        return worker

    def _give_back(self, worker, image):
        with self._changed:
            if worker is not None:
                self._last_image[worker] = image
            self._idle.append(worker)
            self._changed.notify()

    def run(self, jobs, cache=None):
        """Run `jobs` (:meth:`Worker.call`) in an idle worker, waiting for one.
        When no worker process can be started (e.g. the Python executable
        cannot be run by this user), say so once and run them here."""
        if self._cannot_start is not None:
            _run_in_order(jobs, cache)
            return
        image = os.path.splitext(os.path.basename(jobs[0][2][0]))[0]
        try:
            worker = self._take(image)
        except WorkerStartError as error:
            with self._changed:
                first = self._cannot_start is None
                self._cannot_start = error
            if first:
                print(f"{error}; running the jobs in this process instead", file=sys.stderr)
            _run_in_order(jobs, cache)
            return
        try:
            worker.call(jobs, cache)
        finally:
            self._give_back(worker, image)

    def close(self):
        """Stop every worker (each finishes its job first)."""
        with self._changed:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()


def worker_count(setting, cores, fused=False):
    """How many worker processes a local run uses: `setting` is the config's
    ``job_processes`` (an int, 0 for none, or ``"auto"``), `cores` Snakemake's
    ``--cores``, `fused` the config's ``fuse_steps``.

    ``auto``: with a job per step, one less than `cores` (at least 1):
    Snakemake's own bookkeeping of five jobs per image keeps one core busy,
    and it runs up to `cores` jobs at once, so the next job waits in line
    for the worker. With a job per image (`fused`), Snakemake's part is a
    fifth of that: `cores` workers. Measured in README, "Performance".
    """
    if setting == "auto":
        cores = cores or 1
        return cores if fused else max(1, cores - 1)
    return int(setting)


_shared_pools = {}
_shared_pools_lock = threading.Lock()


def shared_pool(processes, project_root):
    """The process-wide :class:`WorkerPool` of `processes` workers
    (created on first use), or None for ``processes == 0``."""
    if processes == 0:
        return None
    with _shared_pools_lock:
        key = (processes, str(project_root))
        if key not in _shared_pools:
            _shared_pools[key] = WorkerPool(processes, project_root)
            plural = "es" if processes > 1 else ""
            print(
                f"Per-image jobs run in {processes} worker process{plural} "
                "(config job_processes).",
                file=sys.stderr,
            )
        return _shared_pools[key]


def step_name(function):
    """The step a step's entry point belongs to (its module's name), for
    messages: ``scripts.steps.threshold.run`` -> ``threshold``,
    ``scripts.report.image.run`` -> ``report.image``."""
    return function.__module__.removeprefix("scripts.").removeprefix("steps.")


def run_jobs(jobs, pool=None, cache=None):
    """Run `jobs`, a list of ``(function, input, output, params, log)`` with
    the rule's named lists, one after the other: in a worker of `pool`, or
    here when `pool` is None. The first that fails stops the others.

    `cache` is ``(cache folder, image id)`` for an image's chain of steps
    that recomputes only from its first changed step
    (:func:`scripts.runtime.stepcache.run_chain`), or None.
    """
    plain = [
        (function, *(plain_arguments(named) for named in arguments))
        for function, *arguments in jobs
    ]
    if pool is None:
        _run_in_order(plain, cache)
    else:
        pool.run(plain, cache)


def _run_in_order(jobs, cache=None):
    if cache is not None:
        from scripts.runtime.stepcache import run_chain

        run_chain(jobs, *cache)
        return
    for function, *arguments in jobs:
        function(*arguments)


def _send(stream, message):
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def _read_exactly(stream, size):
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("end of stream")
    return data


def _receive(stream):
    (size,) = _LENGTH.unpack(_read_exactly(stream, _LENGTH.size))
    return pickle.loads(_read_exactly(stream, size))


def _answer_for(error):
    """What a worker sends back for a job that raised `error`: the error
    itself when it pickles and unpickles (a StepError names the file and
    the problem), else a StepError with its type, message and traceback."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:  # noqa: BLE001 - any unpicklable exception
        text = "".join(traceback.format_exception(error))
        return StepError(f"{type(error).__name__}: {error}\n{text}")


def _exit_with_parent(parent_pid):
    """Exit this worker as soon as the process that started it is gone
    (e.g. Snakemake killed with kill -9): the worker is then re-parented."""

    def watch():
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(PARENT_CHECK_S)

    threading.Thread(target=watch, daemon=True).start()


def serve(requests, answers):
    """A worker's loop: run each request until the end of `requests`."""
    while True:
        try:
            jobs, cache = _receive(requests)
        except EOFError:
            return
        try:
            _run_in_order(jobs, cache)
            answer = ("ok", None)
        except Exception as error:  # noqa: BLE001 - sent back to the job
            if not isinstance(error, StepError):
                traceback.print_exc()
            answer = ("error", _answer_for(error))
        _send(answers, answer)


def main(argv):
    from scripts.imaging import keep_written_tiffs

    parent_pid = int(argv[0])
    _exit_with_parent(parent_pid)
    keep_written_tiffs(KEEP_WRITTEN_BYTES)
    # The answers go to the original standard output; anything a step
    # prints goes to standard error, not into the protocol.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main(sys.argv[1:])

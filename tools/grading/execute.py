"""nbgrader's Execute step for grading: each kernel in the sandbox, the hidden tests judged outside it.

nbgrader_config.py puts SandboxedExecute in place of Execute in `nbgrader autograde`, so the
Makefile's targets and a plain `nbgrader autograde` grade the same way. For each submission it
- prepares the hidden tests (tools/grading/hidden/): inputs chosen at random for this grading,
  and the results a correct answer gives, computed here with the grader's own code and weights;
- runs the notebook in a sandboxed kernel (sandbox.py) that sees the course as the assignment's
  students got it (no answers of this assignment or later ones) and the challenge, never the
  expected results; output beyond `output_limit` bytes per cell is dropped as it arrives;
- lets verdict.py replace each hidden-test cell's outputs with the grader's verdict, from the
  records the cell published and nothing else the kernel did.
The kernel's sockets live in the sandbox's own /tmp, reached through /proc/<pid>/root.
"""
import asyncio
import json
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Unicode

from coursekit.paths import find_course_root
from coursekit.probes import CHALLENGE_VARIABLE
from tools.grading import hidden, release, sandbox, verdict
from tools.grading.cells import is_test

SELF_CHECK_FILES = ("tools/__init__.py", "tools/grading/__init__.py", "tools/grading/hidden", "tools/references")
OUTPUT_MESSAGES = {"stream", "display_data", "execute_result", "error", "update_display_data"}
SANDBOX_START_TIMEOUT = 60


class SandboxKernelSpecs(KernelSpecManager):
    """Whatever kernel a notebook names, start the sandboxed Python kernel with these settings."""

    def __init__(self, settings, **kwargs):
        super().__init__(**kwargs)
        self.settings = settings

    def get_kernel_spec(self, kernel_name):
        return KernelSpec(argv=[sys.executable, str(Path(sandbox.__file__)), "{connection_file}"],
                          display_name="Python 3 (grading sandbox)", language="python", interrupt_mode="message",
                          env={sandbox.SETTINGS: json.dumps(self.settings)})


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager that connects to the kernel's sockets inside the sandbox, through /proc/<pid>/root."""

    info_file = Unicode(help="Where bwrap writes the sandbox's process id (--info-fd).")

    async def _async_post_start_kernel(self, **kw):
        self.ip = f"/proc/{await self._sandbox_pid()}/root{sandbox.INSIDE_IP}"
        await super()._async_post_start_kernel(**kw)

    async def _sandbox_pid(self):
        """The process id of the sandbox's first process, once bwrap has written it."""
        deadline = time.monotonic() + SANDBOX_START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                return int(json.loads(Path(self.info_file).read_text())["child-pid"])
            except (OSError, ValueError, KeyError):
                if self.provisioner.process.poll() is not None:
                    raise RuntimeError("the grading sandbox stopped before the kernel started") from None
                await asyncio.sleep(0.02)
        raise RuntimeError(f"the grading sandbox did not start within {SANDBOX_START_TIMEOUT} s")


class SandboxedExecute(Execute):
    """Execute a submitted notebook in the sandbox, within limits; judge its hidden tests outside the kernel."""

    memory_limit = Integer(6 * 2**30, help="Bytes of address space the kernel may map beyond what Python with torch "
                                           "maps to start (shared memory counts).").tag(config=True)
    cpu_limit = Integer(1800, help="CPU seconds a grading kernel may use before it is killed.").tag(config=True)
    tmp_size = Integer(256 * 2**20, help="Bytes the kernel's /tmp may hold (0: unbounded).").tag(config=True)
    output_limit = Integer(4 * 2**20, help="Bytes of output kept per cell; later output is dropped with a note "
                                           "(0: no limit).").tag(config=True)
    threads = Integer(0, help="Threads for the kernel's torch and BLAS (0: their default, one per core); "
                              "parallel grading gives each kernel its share of the cores.").tag(config=True)
    seed = Integer(None, allow_none=True, help="Seed of the hidden tests' inputs (default: new at each grading, "
                                               "logged, so that a grading can be repeated).").tag(config=True)
    # Defences that can be switched off only to show, in the tests, what each of them stops:
    host_verdict = Bool(True, help="Judge hidden tests outside the kernel (off: they judge themselves inside it).")\
        .tag(config=True)
    withhold_answers = Bool(True, help="Hide the answers of this assignment and later ones from the kernel.")\
        .tag(config=True)
    count_shared_memory = Bool(True, help="Bound the address space (off: data memory only, which shared "
                                          "mappings escape).").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)  # nbgrader's Execute sets its own
        # The sandbox is thrown away with everything in it, so its kernel is killed at once once the last cell has
        # run: a graceful shutdown waited 2.5 s for it every time (half of jupyter_client's shutdown_wait_time).
        kwargs.setdefault("shutdown_kernel", "immediate")
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        folder = Path(resources["metadata"]["path"]).resolve()
        assignment = resources["nbgrader"]["assignment"]
        seed = secrets.randbits(63) if self.seed is None else self.seed
        self.log.info("hidden tests of %s: inputs chosen with seed %d", assignment, seed)
        test_cells = [cell.metadata["nbgrader"]["grade_id"] for cell in nb.cells if is_test(cell)]
        self._timing, begin = Counter(), time.monotonic()
        prepared = hidden.prepare(test_cells, seed) if self.host_verdict else {}
        self._timing["grader: hidden tests prepared"] = time.monotonic() - begin
        run_folder = Path(tempfile.mkdtemp(prefix="xai-grading-"))  # the grader's own: never seen by the kernel
        self._settings = self._sandbox_settings(folder, assignment, prepared, run_folder)
        self._info_file, self._output_bytes, self._truncated = str(run_folder / "sandbox.json"), {}, set()
        self._first_code_cell = next((i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"), None)
        self._begin = time.monotonic()
        try:
            nb, resources = super().preprocess(nb, resources, km)
        finally:
            shutil.rmtree(run_folder, ignore_errors=True)
        begin = time.monotonic()
        if self.host_verdict:
            verdict.apply(nb, prepared)
        self._timing["grader: verdict"] = time.monotonic() - begin
        self.log.info("grading time: %s", ", ".join(f"{part} {seconds:.2f} s" for part, seconds in self._timing.items()))
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        """Run one cell, adding its time to its kind's (where a notebook's grading time goes: make bench-class)."""
        start = time.monotonic()
        self._timing.setdefault("kernel start", start - self._begin)
        try:
            return super().preprocess_cell(cell, resources, index)
        finally:
            if cell.cell_type == "code":
                self._timing[self._kind(cell, index)] += time.monotonic() - start

    def _kind(self, cell, index):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            return "answers"
        if is_test(cell):
            return "hidden tests" if "BEGIN HIDDEN TESTS" in cell.source else "checks"
        return "setup cell" if index == self._first_code_cell else "lesson cells"

    def _sandbox_settings(self, folder, assignment, prepared, run_folder):
        """What sandbox.py needs to start this notebook's kernel (see its main)."""
        course = find_course_root(folder)
        if course is None:
            raise RuntimeError(f"no course folder (utils.py and resources/) above {folder}")
        caches, models = sandbox.model_view()
        view = [*models, *(course / p for p in release.support_files(course, assignment, self.withhold_answers)),
                *(folder / name for name in self._assignment_files(course, assignment))]
        # No figure is drawn: the Agg backend renders nothing until asked to save, and the grade never depends on it.
        environment = {**caches, "MPLBACKEND": "agg"}
        if self.threads:
            environment.update(OMP_NUM_THREADS=str(self.threads), MKL_NUM_THREADS=str(self.threads))
        if self.host_verdict:
            environment[CHALLENGE_VARIABLE] = json.dumps({g: challenge for g, (challenge, _) in prepared.items()})
        else:
            view += [course / name for name in SELF_CHECK_FILES]
        return {"folder": str(folder), "course": str(course), "view": [str(path) for path in view], "environment": environment,
                "tmp_size": self.tmp_size, "cpu": self.cpu_limit, "memory": self.memory_limit,
                "count_shared_memory": self.count_shared_memory, "info_file": str(run_folder / "sandbox.json")}

    def _assignment_files(self, course, assignment):
        """The non-notebook files the assignment ships (nbgrader copied them from the source folder)."""
        source = Path(course) / self.config.CourseDirectory.get("source_directory", "source") / assignment
        return sorted(str(p.relative_to(source)) for p in source.rglob("*")
                      if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts)

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.transport = "ipc"
        km.connection_file = str(Path(self._info_file).with_name("kernel.json"))
        km.info_file = self._info_file
        km.kernel_spec_manager = SandboxKernelSpecs(self._settings)
        return km

    def process_message(self, msg, cell, cell_index):
        """Keep at most `output_limit` bytes of output per cell, counted as the messages arrive."""
        if self.output_limit and msg["msg_type"] in OUTPUT_MESSAGES:
            used = self._output_bytes.get(cell_index, 0) + len(json.dumps(msg["content"], default=str))
            self._output_bytes[cell_index] = used
            if used > self.output_limit:
                if cell_index not in self._truncated:
                    self._truncated.add(cell_index)
                    cell.outputs.append(new_output("stream", name="stdout", text=(
                        f"[출력이 {self.output_limit} 바이트를 넘어 나머지는 버렸습니다 / "
                        f"output beyond {self.output_limit} bytes was dropped]\n")))
                return None
        return super().process_message(msg, cell, cell_index)

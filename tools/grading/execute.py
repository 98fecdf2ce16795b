"""nbgrader's Execute step with every grading kernel started in the sandbox (sandbox.py, guard.py).

nbgrader_config.py puts SandboxedExecute in place of Execute in `nbgrader autograde`, so the
Makefile's targets and a plain `nbgrader autograde` grade the same way. The kernel talks to
nbgrader over Unix sockets in a private folder (the sandbox has no network), is interrupted
by message when a cell times out, and gets the fingerprints of the test cells for the guard.
"""
import json
import shutil
import sys
import tempfile
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer

from tools.grading import sandbox
from tools.grading.guard import cell_hash


class SandboxKernelSpecs(KernelSpecManager):
    """Whatever kernel a notebook names, start the sandboxed Python kernel with these settings."""

    def __init__(self, environment, **kwargs):
        super().__init__(**kwargs)
        self.environment = environment

    def get_kernel_spec(self, kernel_name):
        return KernelSpec(argv=[sys.executable, str(Path(sandbox.__file__)), "{connection_file}"],
                          display_name="Python 3 (grading sandbox)", language="python",
                          interrupt_mode="message", env=self.environment)


class SandboxedExecute(Execute):
    """Execute a submitted notebook in the sandbox, under memory and CPU-time limits."""

    memory_limit = Integer(6 * 2**30, help="Bytes of data memory the grading kernel may allocate.").tag(config=True)
    cpu_limit = Integer(1800, help="CPU seconds a grading kernel may use before it is killed.").tag(config=True)
    guard = Bool(True, help="Guard test cells (guard.py); off only to show what the guard stops.").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        folder = Path(resources["metadata"]["path"])
        tests = [cell_hash(cell.source) for cell in nb.cells if self.guard
                 and cell.metadata.get("nbgrader", {}).get("grade") and not cell.metadata["nbgrader"].get("solution")]
        self._connection_dir = tempfile.mkdtemp(prefix="xai-kernel-")
        self._environment = {
            sandbox.MEMORY: str(self.memory_limit), sandbox.CPU: str(self.cpu_limit),
            sandbox.CONNECTION_DIR: self._connection_dir,
            sandbox.FILES: json.dumps(self._assignment_files(folder, resources["nbgrader"]["assignment"])),
            "XAI_GRADING_TEST_CELLS": json.dumps(tests)}
        try:
            return super().preprocess(nb, resources, km)
        finally:
            shutil.rmtree(self._connection_dir, ignore_errors=True)

    def _assignment_files(self, folder, assignment):
        """The non-notebook files the assignment ships (nbgrader copied them from the source folder)."""
        source_directory = self.config.CourseDirectory.get("source_directory", "source")
        source = sandbox.course_root(folder) / source_directory / assignment
        return sorted(str(p.relative_to(source)) for p in source.rglob("*")
                      if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts)

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.transport = "ipc"
        km.connection_file = str(Path(self._connection_dir) / "kernel.json")
        km.kernel_spec_manager = SandboxKernelSpecs(self._environment)
        return km

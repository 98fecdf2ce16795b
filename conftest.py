"""Test session set-up: the course folder on sys.path and stand-in weights in the libraries' caches.

At the course root, so that it applies to every test run: `pytest`, `pytest tests/...` and
`pytest solutions/<assignment>` (nbval) alike.

Tests run on two pytest-xdist workers (pytest.ini), a test file to a worker; the files that grade whole
classes start first (pytest_collection_modifyitems below).

No test downloads anything. The real loading code runs against deterministic
stand-in weights written by tools/standin_weights.py into .cache/standin/, which
TORCH_HOME and HF_HOME point at for this process and every kernel it starts.
"""
import os
import sys
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parent
STANDIN_CACHE = ROOT / ".cache" / "standin"
sys.path.insert(0, str(ROOT))
matplotlib.use("Agg")


def pytest_configure(config):
    """Write (or reuse) the stand-in caches and point the libraries at them before anything loads; share the cores."""
    from tools.standin_weights import write_standin_caches

    os.environ.update(write_standin_caches(STANDIN_CACHE))
    share_the_cores(config)


def share_the_cores(config):
    """Torch threads per pytest-xdist worker: its share of the cores, for it and every kernel it starts.

    By default each process's torch (OpenMP) takes one thread per core, so two workers, and the kernels they
    start, run more threads than there are cores, and those threads spin waiting for each other: measured on
    2 cores, the check tests took 1.6 times as long and twice the CPU. A value set by the caller is kept;
    the xdist controller, which runs no test, sets none (its workers would inherit it).
    """
    if "PYTEST_XDIST_WORKER" not in os.environ and getattr(config.option, "numprocesses", None):
        return
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


def pytest_report_header(config):
    return [f"weights: deterministic STAND-IN weights in {STANDIN_CACHE} (not the real pretrained ones; "
            "pictures made with them are meaningless)"]


# Test files that take minutes (they grade whole classes, or drive a browser), longest first, as CI measured them.
# pytest.ini runs the tests on two pytest-xdist workers, a file to a worker (--dist loadfile: a file's module
# fixtures are built once, a notebook's cells share one kernel). Starting these first lets the quick files fill in
# beside them instead of leaving one long file to run alone at the end. Only the order depends on this list.
SLOW_FILES = ("tests/test_grading_attacks.py", "tests/test_grading_submissions.py", "tests/test_toy_models.py",
              "tests/test_grading_workflow.py", "tests/test_student_browser.py", "tests/test_grading_parallel.py")


def pytest_collection_modifyitems(config, items):
    """The slow files first (SLOW_FILES), the rest in the order collected."""
    def rank(item):
        path = item.path.relative_to(config.rootpath).as_posix()
        return SLOW_FILES.index(path) if path in SLOW_FILES else len(SLOW_FILES)
    items.sort(key=rank)  # stable: within a file, and among the other files, the collected order stays

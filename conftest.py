"""Test session set-up: the course folder on sys.path and stand-in weights in the libraries' caches.

At the course root, so that it applies to every test run: `pytest`, `pytest tests/...` and
`pytest solutions/<assignment>` (nbval) alike.

Tests run on two pytest-xdist workers (pytest.ini): a test file stays on one worker, and the tests that
grade whole classes start first (pytest_collection_modifyitems below).

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
    """Write (or reuse) the stand-in caches and point the libraries at them before anything loads."""
    from tools.standin_weights import write_standin_caches

    os.environ.update(write_standin_caches(STANDIN_CACHE))


def pytest_report_header(config):
    return [f"weights: deterministic STAND-IN weights in {STANDIN_CACHE} (not the real pretrained ones; "
            "pictures made with them are meaningless)"]


# Test groups that take minutes (they grade whole classes, or drive a browser), longest first, as CI measured them.
# pytest.ini runs the tests on two pytest-xdist workers; starting these first lets the quick tests fill in beside
# them instead of leaving one long group to run alone at the end. Only the order depends on this list.
SLOW_GROUPS = ("grading-attacks", "grading-exercises", "tests/test_grading_workflow.py", "grading-defences-off",
               "tests/test_student_browser.py", "tests/test_grading_parallel.py")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    """Keep each test file on one xdist worker (--dist loadgroup), so that its module fixtures (a graded class, a
    loaded model) are built once; a test may name a group of its own. Then put the slow groups first."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.path.relative_to(config.rootpath).as_posix()))

    def rank(item):
        mark = item.get_closest_marker("xdist_group")
        group = mark.args[0] if mark.args else mark.kwargs.get("name")
        return SLOW_GROUPS.index(group) if group in SLOW_GROUPS else len(SLOW_GROUPS)
    items.sort(key=rank)  # stable: within a group, and among the other tests, the collected order stays

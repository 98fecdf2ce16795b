"""Test session set-up: the course folder on sys.path and stand-in weights in the libraries' caches.

At the course root, so that it applies to every test run: `pytest`, `pytest tests/...` and
`pytest solutions/<assignment>` (nbval) alike.

No test downloads anything. The real loading code runs against deterministic
stand-in weights written by tools/standin_weights.py into .cache/standin/, which
TORCH_HOME and HF_HOME point at for this process and every kernel it starts.
"""
import os
import sys
from pathlib import Path

import matplotlib

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

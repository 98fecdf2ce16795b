"""A throw-away copy of the course, for tests that run nbgrader (which writes into its course folder)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE_FILES = ["nbgrader_config.py", "utils.py", "ImageNet_utils.py", "coursekit", "resources", "solutions"]
NBGRADER = [sys.executable, "-m", "nbgrader"]


def copy_course(destination):
    """Copy what nbgrader and the notebooks need (not notebooks/, not caches) into `destination`."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name,
                            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            shutil.copy2(source, destination / name)
    return destination


def nbgrader(course, *args):
    """Run an nbgrader command in `course`; fail the test with its output if it fails."""
    # nbgrader runs `alembic` from PATH to set up its gradebook: put this interpreter's scripts first.
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    result = subprocess.run([*NBGRADER, *args], cwd=course, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def assignments():
    """The assignment names: one folder per assignment under solutions/."""
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())

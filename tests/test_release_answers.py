"""A student's release of an assignment ships the answers of the earlier assignments only, and works with them."""
import importlib
import json
import subprocess
import sys

import pytest

from course_copy import assignments, copy_release
from coursekit.answers import BY_ASSIGNMENT


def answer_names(module_name):
    return importlib.import_module(f"coursekit.answers.{module_name}").__all__


PROBE = """
import json, sys
from coursekit import explainers
import coursekit.checks_{module}
print(json.dumps(sorted(name for name in {names!r} if hasattr(explainers, name))))
"""


@pytest.mark.parametrize("assignment", assignments())
def test_release_ships_only_earlier_answers_and_its_checks_still_import(assignment, tmp_path):
    copy_release(assignment, tmp_path)
    order = list(BY_ASSIGNMENT)
    earlier = order[:order.index(assignment)]
    every_answer = [name for module in BY_ASSIGNMENT.values() for name in answer_names(module)]
    probe = PROBE.format(module=BY_ASSIGNMENT[assignment], names=every_answer)
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    shipped = json.loads(result.stdout)
    assert shipped == sorted(name for a in earlier for name in answer_names(BY_ASSIGNMENT[a]))
    assert not (tmp_path / "coursekit" / "answers" / f"{BY_ASSIGNMENT[assignment]}.py").exists()


def test_every_assignment_has_an_answer_module():
    assert list(BY_ASSIGNMENT) == assignments()

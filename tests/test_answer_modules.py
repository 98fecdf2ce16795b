"""coursekit/answers/ is exactly the code the solution notebooks teach (tools/answer_modules.py), and fresh."""
import importlib

import nbformat
import pytest

from course_copy import ROOT
from coursekit import explainers
from coursekit.answers import BY_ASSIGNMENT
from tools import answer_modules


@pytest.mark.parametrize("assignment", BY_ASSIGNMENT)
def test_committed_answer_module_is_fresh(assignment):
    committed = answer_modules.module_path(ROOT, assignment).read_text(encoding="utf-8")
    assert committed == answer_modules.render(assignment, ROOT), \
        f"coursekit/answers/{BY_ASSIGNMENT[assignment]}.py is stale: run `make student` and commit the result"


@pytest.mark.parametrize("assignment", BY_ASSIGNMENT)
def test_answers_are_graded_exercise_cells_and_their_module_exports_what_they_define(assignment):
    notebook = nbformat.read(answer_modules.notebook_path(ROOT, assignment), as_version=4)
    tagged = [cell for cell in notebook.cells if answer_modules.is_answer(cell)]
    assert tagged and all(cell.metadata["nbgrader"]["solution"] for cell in tagged)
    module = importlib.import_module(f"coursekit.answers.{BY_ASSIGNMENT[assignment]}")
    defined = [name for cell in tagged for name in answer_modules.defined_names(answer_modules.taught_code(cell.source))]
    assert module.__all__ == defined
    text = answer_modules.module_path(ROOT, assignment).read_text(encoding="utf-8")
    for scaffolding in ("YOUR CODE", "SOLUTION", "NotImplementedError"):
        assert scaffolding not in text


def test_explainers_export_every_answer():
    every_answer = [name for module in BY_ASSIGNMENT.values()
                    for name in importlib.import_module(f"coursekit.answers.{module}").__all__]
    assert sorted(explainers.__all__) == sorted(every_answer)
    assert all(getattr(explainers, name).__module__.startswith("coursekit.answers.") for name in every_answer)


CELL = '''def answer(x):
    """Docstring."""
    y = x + 1   # given code stays
    ##### YOUR CODE START #####
    # 1) a scaffolding comment the student reads
    ### BEGIN SOLUTION
    z = torch.relu(y)   # the solution's own comment stays
    ### END SOLUTION
    # a hint after the solution
    ##### YOUR CODE END #####
    return z'''


def test_taught_code_keeps_the_solution_and_drops_markers_and_scaffolding():
    assert answer_modules.taught_code(CELL) == '''def answer(x):
    """Docstring."""
    y = x + 1   # given code stays
    z = torch.relu(y)   # the solution's own comment stays
    return z'''


@pytest.mark.parametrize("broken", [
    CELL.replace("    ##### YOUR CODE END #####\n", ""),
    CELL.replace("    ### END SOLUTION\n", ""),
    CELL.replace("    ### BEGIN SOLUTION\n", ""),
])
def test_unbalanced_markers_are_an_error(broken):
    with pytest.raises(ValueError, match="unbalanced|not closed"):
        answer_modules.taught_code(broken)


SETUP = '''import sys
from pathlib import Path

COURSE_ROOT = Path.cwd()
sys.path.insert(0, str(COURSE_ROOT))

import math

import matplotlib.pyplot as plt
import torch

from ImageNet_utils import check_class_index, clsidx_to_labels
from utils import (capture_outputs, count_hooks,
                   load_resnet18)'''


def lines_for(code):
    statements = answer_modules._setup_statements(SETUP)
    return answer_modules.import_lines(statements, answer_modules.global_names(code))


def test_only_the_imports_the_answers_need_are_written_in_the_setup_cells_groups():
    code = '''def f(model, x, k):
    k = check_class_index(k, 10)
    with capture_outputs({"a": model.a}) as outputs:
        model(x)
    return [torch.relu(v) for v in outputs.values()], g(math.isqrt(k)), len(outputs)


def g(value):
    return plt.plot(value)'''
    assert lines_for(code) == ["import math", "", "import matplotlib.pyplot as plt", "import torch", "",
                               "from ImageNet_utils import check_class_index", "from utils import capture_outputs"]


def test_a_name_nothing_defines_is_an_error():
    with pytest.raises(ValueError, match=r"\['undefined_helper'\]"):
        lines_for("def f(x):\n    return undefined_helper(torch.relu(x))")

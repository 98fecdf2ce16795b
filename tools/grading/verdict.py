"""The grader's verdict on the hidden tests, reached outside the student's kernel.

Each hidden-test cell published its results as records (coursekit/probes.py). Here, after the
notebook has run, every such cell's outputs are replaced by the verdict on those records alone
(tools/grading/hidden/expected.py): a line saying it passed, which nbgrader scores with the cell's
points, or an error naming what was wrong, which it scores 0. Whatever else the kernel put in the
cell (a forged result, an erased error, a printed "passed") is gone; a cell whose records are
missing, duplicated, malformed or of the wrong kind fails.
"""
from nbformat.v4 import new_output

from coursekit.messages import bilingual
from coursekit.probes import RESULT_MIME
from tools.grading.cells import is_test
from tools.grading.hidden.expected import judge

PASSED = "숨은 테스트 통과 (채점기가 확인함) / hidden test passed (checked by the grader)\n"


def records(cell):
    """The hidden-test records among a cell's outputs."""
    return [output["data"][RESULT_MIME] for output in cell.get("outputs", [])
            if output.get("output_type") in ("display_data", "execute_result")
            and isinstance(output.get("data"), dict) and RESULT_MIME in output["data"]]


def _stopped(cell):
    """A cell that published nothing: what it stopped with, if the kernel said."""
    errors = [output for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    cause = f" ({errors[-1].get('ename')}: {str(errors[-1].get('evalue'))[:300]})" if errors else ""
    return [bilingual(f"숨은 테스트가 결과를 하나도 내지 못했습니다{cause}.", f"the hidden test published no result{cause}")]


def apply(nb, prepared):
    """Replace the outputs of every hidden-test cell in `prepared` ({grade_id: (challenge, expected)}) by the verdict."""
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not (is_test(cell) and grade_id in prepared):
            continue
        found = records(cell)
        problems = judge(grade_id, prepared[grade_id][1], found) if found else _stopped(cell)
        if problems:
            message = "\n".join(problems)
            cell.outputs = [new_output("error", ename="HiddenTestFailed", evalue=message, traceback=message.splitlines())]
        else:
            cell.outputs = [new_output("stream", name="stdout", text=PASSED)]

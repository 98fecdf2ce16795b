"""The hidden tests, judged in this process as the grader judges them: the solutions pass, wrong answers do not.

Every hidden-test cell of the solution notebooks is run through its probe (coursekit/probes.py)
and judged by the grader's code (tools/grading/hidden/) for several gradings (seeds): the
solution passes every one; each plausible wrong answer and each constant answer of the table in
submissions.py fails the tests of its exercise (and of the later exercises that call it) every
time, and no other. Records that are missing, duplicated, malformed or of the wrong kind fail.
The grading tests (test_grading_submissions.py, test_grading_attacks.py) grade some of them through nbgrader and the
sandbox.
"""
import ast
import base64
import copy
import zlib
from functools import lru_cache

import numpy as np
import pytest
import torch

from coursekit import probes
from notebook_cells import run_cell, setup_namespace
from submissions import (EXERCISES, LYING_MODE_CLASS, LYING_TENSOR, graded_cells, reference_answers,
                         solution_notebook)
from tools.grading import hidden
from tools.grading.hidden import rollout
from tools.grading.hidden.expected import Close, Same, judge
from tools.references.rollout import rollout_map

SEEDS = (0, 1, 2)  # gradings of the solution; each wrong answer meets one grading of its own (seeded by its name)


def hidden_cells(assignment):
    """{hidden test grade_id: {argument: name of the notebook function}} from each cell's run_hidden_test call."""
    cells = {}
    for cell in solution_notebook(assignment).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and "BEGIN HIDDEN TESTS" in cell.source:
            call, = [node for node in ast.walk(ast.parse(cell.source)) if isinstance(node, ast.Call)
                     and getattr(node.func, "id", None) == "run_hidden_test"]
            cells[call.args[0].value] = {keyword.arg: keyword.value.id for keyword in call.keywords}
    return cells


def namespace_with(assignment, answers):
    """The notebook's setup cell and every solution cell run in order, with `answers` (grade_id -> source) instead."""
    namespace = setup_namespace(assignment)
    for grade_id, source in reference_answers(assignment).items():
        if grade_id in answers:
            exec(compile(answers[grade_id], f"{assignment}:{grade_id} (variant)", "exec"), namespace)
        else:
            run_cell(assignment, grade_id, namespace)
    return namespace


@lru_cache(maxsize=None)
def prepared(assignment, seed):
    """The grader's preparation of every hidden test of an assignment for one grading."""
    return hidden.prepare(hidden_cells(assignment), seed)


def failing_tests(assignment, namespace, seed):
    """{hidden grade_id: problems} of the tests that fail for the functions in `namespace`."""
    failing = {}
    for grade_id, arguments in hidden_cells(assignment).items():
        challenge, expected = prepared(assignment, seed)[grade_id]
        functions = {argument: namespace[name] for argument, name in arguments.items()}
        problems = judge(grade_id, expected, probes.records(grade_id, challenge, functions))
        if problems:
            failing[grade_id] = problems
    return failing


def hidden_tests_of(assignment, exercises):
    """The hidden grade_ids belonging to these exercises (a test cell belongs to the solution cell above it)."""
    return {grade_id for grade_id, (points, exercise) in graded_cells(assignment).items()
            if exercise in exercises and grade_id in hidden_cells(assignment)}


ASSIGNMENTS = sorted(EXERCISES)
VARIANTS = [(a, e, kind) for a in ASSIGNMENTS for e in EXERCISES[a] for kind in ("wrong", "constant")]


def test_every_test_cell_with_points_is_a_hidden_test_the_grader_knows():
    for assignment in ASSIGNMENTS:
        cells = hidden_cells(assignment)
        for grade_id, (points, exercise) in graded_cells(assignment).items():
            if points:
                assert grade_id in cells, f"{assignment}/{grade_id} has points but is not a hidden test"
        assert set(cells) <= set(hidden.TESTS), f"{assignment}: hidden tests the grader does not know"
        assert set(cells) == {g for g in hidden.TESTS if g in graded_cells(assignment)}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_solution_passes_every_hidden_test(assignment):
    namespace = namespace_with(assignment, {})
    for seed in SEEDS:
        assert failing_tests(assignment, namespace, seed) == {}, f"seed {seed}"


@pytest.mark.parametrize("assignment, exercise, kind", VARIANTS)
def test_a_wrong_or_constant_answer_fails_its_tests_and_only_those(assignment, exercise, kind):
    entry = EXERCISES[assignment][exercise]
    namespace = namespace_with(assignment, {exercise: getattr(entry, kind)})
    seed = zlib.crc32(f"{assignment}/{exercise}/{kind}".encode())
    assert set(failing_tests(assignment, namespace, seed)) == hidden_tests_of(assignment, {exercise} | entry.also_loses)


def test_a_grading_chooses_other_inputs_each_time():
    challenges = [hidden.prepare(["compute_cam_hidden", "compute_attention_rollout_hidden"], seed) for seed in range(4)]
    as_text = {repr({g: c for g, (c, e) in prepared.items()}) for prepared in challenges}
    assert len(as_text) == 4


# ---- the judge trusts nothing in a record ----------------------------------------------------

EXPECTED = {"map": Close(np.arange(6.0).reshape(2, 3), ("지도", "the map"), atol=1e-6),
            "hooks_left": Same(0, "int", ("남은 hook", "hooks left"))}


def good_records():
    return [{"test": "t", "key": "map", **probes.encode(torch.arange(6.0).reshape(2, 3))},
            {"test": "t", "key": "hooks_left", **probes.encode(0)}]


def test_the_judge_passes_the_right_records():
    assert judge("t", EXPECTED, good_records()) == []


def _broken(change):
    records = good_records()
    change(records)
    return records


BROKEN = {
    "missing": lambda r: r.pop(),
    "duplicated": lambda r: r.append(copy.deepcopy(r[0])),
    "unknown key": lambda r: r.append({"test": "t", "key": "bonus", "int": 1}),
    "other test": lambda r: r[0].update(test="u"),
    "not a dict": lambda r: r.append(["map"]),
    "error": lambda r: r.append({"test": "t", "key": "error", "error": "IndexError: boom"}),
    "wrong value": lambda r: r[0].update(probes.encode(torch.arange(6.0).reshape(2, 3) + 1e-3)),
    "wrong shape": lambda r: r[0].update(probes.encode(torch.arange(6.0).reshape(1, 2, 3))),
    "a list, not a tensor": lambda r: r[0].update(probes.encode(np.arange(6.0).reshape(2, 3))),
    "NaN": lambda r: r[0].update(probes.encode(torch.full((2, 3), float("nan")))),
    "bytes too short": lambda r: r[0].update(float64=base64.b64encode(b"\0" * 40).decode()),
    "not base64": lambda r: r[0].update(float64="***"),
    "shape not a list": lambda r: r[0].update(shape="2, 3"),
    "bool for int": lambda r: r[1].update({"int": False}),
    "int as text": lambda r: r[1].update({"int": "0"}),
    "kind missing": lambda r: r[1].pop("int"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_the_judge_fails_broken_records(case):
    assert judge("t", EXPECTED, _broken(BROKEN[case]))


def test_messages_say_what_was_wrong_in_korean_then_english():
    problem, = judge("t", EXPECTED, _broken(BROKEN["wrong shape"]))
    korean, english = problem.split("\n")
    assert "모양이 다릅니다" in korean and "(2, 3)" in korean and "(1, 2, 3)" in korean
    assert english == "the map: wrong shape: expected (2, 3), got (1, 2, 3)"
    problem, = judge("t", EXPECTED, _broken(BROKEN["error"]))
    assert "IndexError: boom" in problem


def test_the_records_of_a_student_error_name_it_and_keep_what_came_before():
    def compute_cam(model, image_tensor, target_class):
        raise IndexError("index 7 is out of bounds")
    (challenge, expected), = hidden.prepare(["compute_cam_hidden"], 0).values()
    records = probes.records("compute_cam_hidden", challenge, {"compute_cam": compute_cam})
    assert records == [{"test": "compute_cam_hidden", "key": "error", "error": "IndexError: index 7 is out of bounds"}]


def test_outside_grading_a_hidden_cell_checks_itself(monkeypatch):
    monkeypatch.delenv(probes.CHALLENGE_VARIABLE, raising=False)
    namespace = namespace_with("01_cam", {"compute_cam": EXERCISES["01_cam"]["compute_cam"].constant})
    with pytest.raises(AssertionError, match="채점기가 계산한 값과 다릅니다"):
        probes.run_hidden_test("compute_cam_hidden", compute_cam=namespace["compute_cam"])


def lying_code(source):
    """The classes a lying submission defines (submissions.py), run here."""
    namespace = {"torch": torch}
    exec(source, namespace)
    return namespace


def torch_comparison_passes(answer, reference):
    """How a test compared in torch before: the largest difference, as a float, within tolerance."""
    return float((answer - reference).abs().max()) <= 1e-6 and not bool((answer != reference).any())


def test_lying_values_fool_a_comparison_in_torch_but_not_the_plain_data_judge():
    reference = torch.arange(6.0).reshape(2, 3)
    expected = {"map": Close(reference.numpy(), ("지도", "the map"), atol=1e-6)}
    liar = torch.zeros(2, 3).as_subclass(lying_code(LYING_TENSOR)["_Agreeable"])
    assert torch_comparison_passes(liar, reference)
    assert judge("t", expected, [{"test": "t", "key": "map", **probes.encode(liar)}])
    with lying_code(LYING_MODE_CLASS)["_EverythingClose"]():
        assert torch_comparison_passes(torch.zeros(2, 3), reference)
        records = [{"test": "t", "key": "map", **probes.encode(torch.zeros(2, 3))}]
    assert judge("t", expected, records)


def test_rollout_inputs_are_drawn_again_where_a_discard_mistake_moves_the_map_less_than_the_test_sees():
    """Sparing [0, 0] by zeroing the k smallest *other* entries (`cls_entry="skipped"`) zeroes one more, small entry:
    in this random case by more than 1 % of itself, but the map by less than the tolerance of the test, which is
    relative to the map's largest value. Inputs must be drawn again here: such a draw once let that wrong answer pass
    (a CI run), when the hidden test asked only for a change of 1 % anywhere."""
    case = {"name": "random", "random": {"seed": 27228033, "layers": 2, "heads": 4, "tokens": 26, "sharpness": 2.0}}
    attentions = probes.attention_case(case, None)
    expected = Close(rollout_map(attentions, "min", 0.7), ("", ""), rtol=rollout.MAP_RTOL)
    mistaken = rollout_map(attentions, "min", 0.7, cls_entry="skipped")
    assert not np.allclose(mistaken, expected.reference, rtol=1e-2, atol=1e-6)   # changed by over 1 % somewhere,
    assert np.abs(mistaken - expected.reference).max() <= expected.bound()         # yet within the tolerance
    assert not rollout._misses({"cls_entry": "skipped"}, [(attentions, "min", 0.7, expected)])

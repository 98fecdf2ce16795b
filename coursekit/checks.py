"""Assertions for the notebooks' visible checks that say what went wrong.

Each failure raises AssertionError (so nbgrader counts it) with a Korean sentence,
then the same in English, naming what was expected and what came instead:
"wrong shape: expected (7, 7), got (1, 7, 7)" rather than a bare AssertionError.
"""
import operator
import sys
from contextlib import contextmanager

import torch

from coursekit.hooks import count_hooks
from coursekit.messages import bilingual


def fail(korean, english):
    """Raise the AssertionError a student sees: Korean first, English on the next line."""
    raise AssertionError(bilingual(korean, english))


def expect_tensor(value, name):
    """The value must be a torch.Tensor (not a list, a NumPy array or None)."""
    if not isinstance(value, torch.Tensor):
        fail(f"{name}은(는) torch.Tensor여야 합니다: 받은 타입 {type(value).__name__}",
             f"{name} must be a torch.Tensor, got {type(value).__name__}")


def expect_shape(value, expected, name):
    """The tensor must have exactly the expected shape."""
    expect_tensor(value, name)
    if tuple(value.shape) != tuple(expected):
        fail(f"{name}의 shape이 다릅니다: 기대 {tuple(expected)}, 받은 값 {tuple(value.shape)}",
             f"wrong shape for {name}: expected {tuple(expected)}, got {tuple(value.shape)}")


def expect_finite(value, name, hint=("", "")):
    """The tensor must hold no NaN or inf; an optional hint (ko, en) says where they usually come from."""
    bad = int((~torch.isfinite(value.detach())).sum())
    if bad:
        korean, english = hint
        fail(f"{name}에 NaN 또는 inf 값이 {bad}개 있습니다. {korean}".rstrip(),
             f"{name} has {bad} NaN or inf entries. {english}".rstrip())


def expect_close(actual, expected, name, atol=1e-4, rtol=1e-4, hint=("", "")):
    """Values must match within tolerance; the message shows the worst entry and an optional hint (ko, en)."""
    actual = actual.detach().to(torch.float64)
    expected = torch.as_tensor(expected, dtype=torch.float64)
    error = (actual - expected).abs() - (atol + rtol * expected.abs())
    if bool((error > 0).any()):
        worst = tuple(int(i) for i in torch.unravel_index(error.argmax(), error.shape))
        got, want = float(actual[worst]), float(expected[worst])
        korean, english = hint
        fail(f"{name}의 값이 다릅니다: 위치 {worst}에서 기대 {want:.5g}, 받은 값 {got:.5g}. {korean}".rstrip(),
             f"wrong values in {name}: at {worst} expected {want:.5g}, got {got:.5g}. {english}".rstrip())


def expect_no_hooks(model, before=0):
    """The function under test must remove every hook it registered."""
    left = count_hooks(model) - before
    if left:
        fail(f"함수가 끝난 뒤에도 hook이 {left}개 남아 있습니다. handle.remove()로 지우세요 (try/finally 권장).",
             f"{left} hook(s) left on the model after the call: remove them with handle.remove() (use try/finally)")


def expect_eval_mode(model):
    """The function under test must leave the model in eval mode (BatchNorm and Dropout as at inference)."""
    if model.training:
        fail("함수가 끝난 뒤 모델이 train 모드입니다. 모델을 받은 상태(eval 모드) 그대로 두세요.",
             "the model was left in train mode: leave it in eval mode, as it was given")


def expect_state_unchanged(model, state_before):
    """Parameters and buffers (e.g. BatchNorm running statistics) must be as before the call."""
    for key, value in model.state_dict().items():
        if not torch.equal(value, state_before[key]):
            fail(f"함수 실행 중 모델의 '{key}' 값이 바뀌었습니다 (train 모드 forward 또는 가중치 수정?).",
                 f"the model's '{key}' changed during the call (a forward in train mode, or edited weights?)")


def expect_no_grad(model):
    """No parameter may hold a gradient after the call: backward() accumulates into .grad until zero_grad."""
    held = [name for name, parameter in model.named_parameters()
            if parameter.grad is not None and bool(parameter.grad.any())]
    if held:
        fail(f"함수가 끝난 뒤 매개변수 {len(held)}개에 .grad가 남아 있습니다 (예: '{held[0]}'). backward() 뒤에 "
             "model.zero_grad(set_to_none=True)를 부르거나 torch.autograd.grad를 쓰세요.",
             f"{len(held)} parameter(s) hold a .grad after the call (e.g. '{held[0]}'): call "
             "model.zero_grad(set_to_none=True) after backward(), or use torch.autograd.grad")


def snapshot_state(model):
    """Return a deep copy of the model's parameters and buffers, for expect_state_unchanged."""
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def expect_index(value, name):
    """The value must be an integer index (int, NumPy integer or 0-d integer tensor); return it as an int."""
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    fail(f"{name}은(는) 정수 인덱스여야 합니다: 받은 값 {value!r}",
         f"{name} must be an integer index, got {value!r}")


def expect_pair(value, names, where):
    """The function must return two values, e.g. names="(entropies, most_concentrated)"; return them."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(f"{where}: 두 값 {names}을(를) 돌려줘야 합니다: 받은 값의 타입 {type(value).__name__}",
             f"{where}: return two values {names}, got {type(value).__name__}")
    return value


def snapshot_tensors(tensors):
    """Return copies of the input tensors, for expect_unchanged."""
    return [tensor.detach().clone() for tensor in tensors]


def expect_unchanged(tensors, originals, name):
    """The function under test must not modify its input tensors in place (later cells reuse them)."""
    for index, (tensor, original) in enumerate(zip(tensors, originals)):
        if not torch.equal(tensor, original):
            fail(f"함수가 입력 {name}[{index}]의 값을 바꿨습니다 (in-place 연산: `/=`, `[...] = `, `_`로 끝나는 메서드?). "
                 "입력은 그대로 두고 새 텐서를 만드세요.",
                 f"the function modified its input {name}[{index}] in place (`/=`, item assignment, a method "
                 "ending in `_`?): leave inputs as they are and build new tensors")


def call_with_hint(function, *args, hint, **kwargs):
    """Call the student's function; an exception keeps its traceback and gains the hint (ko, en) as a note."""
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as err:
        korean, english = hint
        err.add_note(bilingual(f"힌트: {korean}", f"hint: {english}"))
        raise


def passed(what):
    """Print the success line a student sees after all checks of an exercise."""
    print(f"✅ {what}: 모든 확인을 통과했습니다 (all checks passed).")


@contextmanager
def refusing_reference(answer, module, name):
    """Within the block, fail if `answer` is, names or calls the shipped reference `module.name`.

    coursekit.explainers holds the answers of earlier exercises for later notebooks;
    an exercise answered by calling or subclassing them has not been done. The
    reference is looked for in the answer, its base classes and the globals its
    code names (`module.name` counts, and so does the name in the module that
    defines it; other attributes do not), and replaced by a trap in both modules
    while the block runs. In a student's release the reference of the current
    exercise is not shipped at all: then there is nothing to refuse.
    """
    reference = getattr(module, name, None)
    if reference is None:
        yield
        return
    modules = [module, sys.modules[reference.__module__]]
    if _refers_to(answer, reference, modules, name):
        _refuse(module, name)

    def trap(*args, **kwargs):
        _refuse(module, name)

    for place in modules:
        setattr(place, name, trap)
    try:
        yield
    finally:
        for place in modules:
            setattr(place, name, reference)


def _refers_to(answer, reference, modules, name):
    """Whether the answer is or extends the reference, or its code names it (directly or as `module.name`)."""
    if _is_or_extends(answer, reference):
        return True
    for names, values in _globals_used(answer):
        if any(_is_or_extends(value, reference) or (any(value is m for m in modules) and name in names)
               for value in values):
            return True
    return False


def _is_or_extends(value, reference):
    """True for the reference itself and for a class built on it (`class A(module.Reference)`)."""
    return value is reference or (isinstance(value, type) and reference in value.__mro__)


def _refuse(module, name):
    fail(f"{module.__name__}.{name}는 이전 과제의 정답입니다. 이 연습문제는 직접 구현해야 합니다.",
         f"{module.__name__}.{name} is the answer shipped for later notebooks: implement this exercise yourself")


def _globals_used(answer):
    """For a function (or each method of a class): the names its code uses, and the global values they name."""
    functions = [v for v in vars(answer).values() if callable(v)] if isinstance(answer, type) else [answer]
    for function in functions:
        code = getattr(function, "__code__", None)
        if code is None:
            continue
        pending, names = [code], set()
        while pending:
            current = pending.pop()
            names.update(current.co_names)
            pending.extend(c for c in current.co_consts if hasattr(c, "co_names"))
        yield names, [function.__globals__[n] for n in names if n in function.__globals__]

"""Assertions for the notebooks' visible checks that say what went wrong.

Each failure raises AssertionError (so nbgrader counts it) with a Korean sentence,
then the same in English, naming what was expected and what came instead:
"ResNet18 CAM의 shape은 (7, 7)이어야 하는데 (1, 7, 7)입니다" / "wrong shape for ResNet18 CAM:
expected (7, 7), got (1, 7, 7)" rather than a bare AssertionError.

A `name` in these helpers is either one string used in both languages ("ResNet18 CAM") or a
pair (Korean, English), e.g. ("작은 모델의 CAM (클래스 1)", "tiny model CAM (class 1)").
"""
import operator
import sys
from contextlib import contextmanager

import torch

from coursekit.hooks import count_hooks
from coursekit.images import preprocess_image
from coursekit.messages import bilingual, particle
from coursekit.models import load_resnet18
from coursekit.paths import resource_path


def fail(korean, english):
    """Raise the AssertionError a student sees: Korean first, English on the next line."""
    raise AssertionError(bilingual(korean, english))


def name_pair(name):
    """The (Korean, English) forms of a name given as one string or as a pair."""
    return (name, name) if isinstance(name, str) else tuple(name)


def expect_tensor(value, name):
    """The value must be a torch.Tensor (not a list, a NumPy array or None)."""
    if not isinstance(value, torch.Tensor):
        korean, english = name_pair(name)
        fail(f"{particle(korean, '은/는')} torch.Tensor여야 하는데 {type(value).__name__}입니다.",
             f"{english} must be a torch.Tensor, got {type(value).__name__}")


def expect_shape(value, expected, name):
    """The tensor must have exactly the expected shape."""
    expect_tensor(value, name)
    if tuple(value.shape) != tuple(expected):
        korean, english = name_pair(name)
        fail(f"{korean}의 shape은 {particle(tuple(expected), '이어야/여야')} 하는데 {tuple(value.shape)}입니다.",
             f"wrong shape for {english}: expected {tuple(expected)}, got {tuple(value.shape)}")


def expect_finite(value, name, hint=("", "")):
    """The tensor must hold no NaN or inf; an optional hint (ko, en) says where they usually come from."""
    bad = int((~torch.isfinite(value.detach())).sum())
    if bad:
        (korean, english), (korean_hint, english_hint) = name_pair(name), hint
        fail(f"{korean}에 NaN 또는 inf 값이 {bad}개 있습니다. {korean_hint}".rstrip(),
             f"{english} has {bad} NaN or inf entries. {english_hint}".rstrip())


def expect_close(actual, expected, name, atol=1e-4, rtol=1e-4, hint=("", "")):
    """Values must match within tolerance; the message shows the worst entry and an optional hint (ko, en)."""
    actual = actual.detach().to(torch.float64)
    expected = torch.as_tensor(expected, dtype=torch.float64)
    error = (actual - expected).abs() - (atol + rtol * expected.abs())
    if bool((error > 0).any()):
        worst = tuple(int(i) for i in torch.unravel_index(error.argmax(), error.shape))
        got, want = f"{float(actual[worst]):.5g}", f"{float(expected[worst]):.5g}"
        (korean, english), (korean_hint, english_hint) = name_pair(name), hint
        fail(f"{korean}: 위치 {worst}의 값은 {particle(want, '이어야/여야')} 하는데 {got}입니다. {korean_hint}".rstrip(),
             f"wrong values in {english}: at {worst} expected {want}, got {got}. {english_hint}".rstrip())


def resnet_case(image_name):
    """Load ResNet18 and an image of resources/; return (model, image tensor, logits, state snapshot)."""
    model = load_resnet18()
    image = preprocess_image(resource_path(image_name))
    with torch.no_grad():
        logits = model(image)[0]
    return model, image, logits, snapshot_state(model)


def expect_model_untouched(model, state):
    """The function must leave the model as it was given: no hooks, eval mode, same weights and statistics."""
    expect_no_hooks(model)
    expect_eval_mode(model)
    expect_state_unchanged(model, state)


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
            fail(f"함수가 실행되는 동안 모델의 '{key}' 값이 바뀌었습니다 (train 모드로 forward 했거나 가중치를 고쳤나요?).",
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
    korean, english = name_pair(name)
    fail(f"{particle(korean, '은/는')} 정수 인덱스여야 하는데 {value!r}입니다.",
         f"{english} must be an integer index, got {value!r}")


def expect_pair(value, names, where):
    """The function must return two values, e.g. names="(entropies, most_concentrated)"; return them."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        (korean, english), got = name_pair(where), type(value).__name__
        sequence = isinstance(value, (tuple, list))
        korean_got, english_got = (f"길이가 {len(value)}인 {got}", f"a {got} of length {len(value)}") if sequence \
            else (got, got)
        fail(f"{korean}: {particle(f'두 값 {names}', '을/를')} 돌려줘야 하는데 {particle(korean_got, '을/를')} 돌려줬습니다.",
             f"{english}: return two values {names}, got {english_got}")
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
    fail(f"{particle(f'{module.__name__}.{name}', '은/는')} 앞 과제의 답으로, 뒤 노트북이 쓰라고 들어 있는 것입니다. "
         "이 실습은 직접 구현하세요.",
         f"{module.__name__}.{name} is the answer shipped for later notebooks: implement this exercise yourself")


@contextmanager
def blaming_earlier_exercise(answer, name, check, exercise):
    """Within the block, a failure says "pass exercise N first" when the earlier exercise's answer is the cause.

    That is when `answer` uses the global `name` (directly or through the other functions and classes
    defined next to it, i.e. the student's notebook) and that earlier answer does not pass `check`,
    its own exercise's check. Otherwise the failure is raised unchanged.
    """
    try:
        yield
    except Exception as error:
        earlier = global_used(answer, name)
        if earlier is None or passes(check, earlier):
            raise
        raise AssertionError(bilingual(
            f"이 함수가 쓰는 실습 {exercise}의 {particle(name, '이/가')} 실습 {exercise}의 확인을 통과하지 못합니다. "
            f"그 확인 셀을 먼저 통과하세요: 위의 오류는 {name} 때문일 수 있습니다.",
            f"this function uses exercise {exercise}'s {name}, which does not pass exercise {exercise}'s check: "
            f"pass that check first (the error above may come from it)")) from error


def passes(check, answer):
    """Whether `check(answer)` runs without raising: a quiet look at an earlier exercise's answer."""
    try:
        check(answer)
    except Exception:
        return False
    return True


def global_used(answer, name):
    """The global `name` that the answer's code uses, directly or through the functions and classes defined
    next to it (same module, e.g. the student's notebook); None if it uses none."""
    pending, seen = [answer], []
    while pending:
        current = pending.pop()
        if any(current is done for done in seen):
            continue
        seen.append(current)
        for function in _functions(current):
            namespace = function.__globals__
            for used in _code_names(function.__code__):
                value = namespace.get(used)
                if used == name and value is not None:
                    return value
                if getattr(value, "__module__", None) == namespace.get("__name__") and callable(value):
                    pending.append(value)
    return None


def _functions(answer):
    """The answer itself, or each method of a class: the code objects behind an answer."""
    candidates = vars(answer).values() if isinstance(answer, type) else [answer]
    return [function for function in candidates if callable(function) and hasattr(function, "__code__")]


def _code_names(code):
    """Every global or attribute name a code object (and the functions nested in it) uses."""
    pending, found = [code], set()
    while pending:
        current = pending.pop()
        found.update(current.co_names)
        pending.extend(c for c in current.co_consts if hasattr(c, "co_names"))
    return found


def _globals_used(answer):
    """For a function (or each method of a class): the names its code uses, and the global values they name."""
    for function in _functions(answer):
        used = _code_names(function.__code__)
        yield used, [function.__globals__[n] for n in used if n in function.__globals__]

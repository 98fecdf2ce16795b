"""What the grader expects of a hidden test's records, and how it judges them: plain data in, problems out.

The records come from the student's kernel (coursekit/probes.py) and may be anything: this
module trusts no field. A test passes when every expected key has exactly one record of the
right kind and value, and there is no error record, no unknown key and no duplicate.
"""
import base64
import binascii
import math
from dataclasses import dataclass

import numpy as np

from coursekit.messages import bilingual


def _numbers(record):
    """The float64 array in a record, or a problem message (str) when the record is malformed."""
    shape, data = record.get("shape"), record.get("float64")
    if not (isinstance(shape, list) and all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape)
            and isinstance(data, str)):
        return "malformed"
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return "malformed"
    if len(raw) != 8 * math.prod(shape):
        return "malformed"
    return np.frombuffer(raw, dtype="<f8").reshape(shape)


@dataclass
class Close:
    """A tensor of the reference's shape, within atol + rtol * max|reference| of it everywhere."""
    reference: np.ndarray
    what: tuple  # (Korean, English) name of the result in messages
    atol: float = 0.0
    rtol: float = 0.0

    def problem(self, record):
        korean, english = self.what
        if record.get("type") != "tensor":
            return bilingual(f"{korean}: torch.Tensor를 돌려주어야 하는데 {record.get('type')!s} 값을 돌려주었습니다.",
                             f"{english}: expected a torch.Tensor, got {record.get('type')!s}")
        actual = _numbers(record)
        if isinstance(actual, str):
            return _malformed(self.what)
        expected_shape = tuple(self.reference.shape)
        if actual.shape != expected_shape:
            return bilingual(f"{korean}: 모양이 다릅니다. 채점기의 결과는 {expected_shape}, 제출한 코드의 결과는 {tuple(actual.shape)}입니다.",
                             f"{english}: wrong shape: expected {expected_shape}, got {tuple(actual.shape)}")
        if not np.isfinite(actual).all():
            return bilingual(f"{korean}: NaN이나 무한대 값이 들어 있습니다.", f"{english}: contains NaN or infinity")
        error = float(np.abs(actual - self.reference).max(initial=0.0))
        if error > self.bound():
            scale = float(np.abs(self.reference).max(initial=0.0))
            return bilingual(f"{korean}: 채점기가 계산한 값과 다릅니다 (최대 오차 {error:.3g}, 기준값의 최대 크기 {scale:.3g}).",
                             f"{english}: differs from the grader's result (max error {error:.3g}, largest value {scale:.3g})")
        return None

    def bound(self):
        """The largest error accepted anywhere: atol + rtol * max|reference|."""
        return self.atol + self.rtol * float(np.abs(self.reference).max(initial=0.0))


@dataclass
class Number:
    """One number within atol of the reference; where the reference is NaN, NaN and nothing else.

    As the visible checks take it: a float (Python's or NumPy's), an integer, or a tensor or array of shape ().
    """
    reference: float
    what: tuple
    atol: float = 0.0
    KINDS = ("float", "float64", "float32", "tensor", "ndarray")

    def problem(self, record):
        korean, english = self.what
        if type(record.get("int")) is int:
            value = float(record["int"])
        elif record.get("type") not in self.KINDS:
            return bilingual(f"{korean}: 숫자(float) 하나를 돌려주어야 하는데 {record.get('type')!s} 값을 돌려주었습니다.",
                             f"{english}: expected one number (a float), got {record.get('type')!s}")
        else:
            actual = _numbers(record)
            if isinstance(actual, str):
                return _malformed(self.what)
            if actual.shape != ():
                return bilingual(f"{korean}: 숫자 하나를 돌려주어야 하는데 모양이 {tuple(actual.shape)}인 값을 돌려주었습니다.",
                                 f"{english}: expected one number, got shape {tuple(actual.shape)}")
            value = float(actual.reshape(()))
        if math.isnan(self.reference):
            if math.isnan(value):
                return None
            return bilingual(f"{korean}: 채점기의 결과는 NaN인데 제출한 코드의 결과는 {value:.6g}입니다.",
                             f"{english}: expected NaN, got {value:.6g}")
        if not math.isfinite(value):
            return bilingual(f"{korean}: 채점기의 결과는 {self.reference:.6g}인데 제출한 코드의 결과는 {value}입니다.",
                             f"{english}: expected {self.reference:.6g}, got {value}")
        if abs(value - self.reference) > self.atol:
            return bilingual(f"{korean}: 채점기가 계산한 값과 다릅니다 (채점기 {self.reference:.6g}, 제출한 코드 {value:.6g}).",
                             f"{english}: differs from the grader's result (expected {self.reference:.6g}, got {value:.6g})")
        return None


@dataclass
class Same:
    """Exactly this flag, integer, list of integers or list of texts (kind: bool, int, ints, texts)."""
    value: object
    kind: str
    what: tuple

    def problem(self, record):
        korean, english = self.what
        if self.kind not in record:
            return _malformed(self.what)
        actual = record[self.kind]
        if actual != self.value or type(actual) is not type(self.value):
            return bilingual(f"{korean}: 채점기가 기대한 값은 {self.value!r}, 제출한 코드의 값은 {actual!r}입니다.",
                             f"{english}: expected {self.value!r}, got {actual!r}")
        return None


def _malformed(what):
    return bilingual(f"{what[0]}: 결과를 읽을 수 없습니다 (형식이 맞지 않음).", f"{what[1]}: the result is malformed")


def judge(grade_id, expected, records):
    """Problems (bilingual messages) of one hidden test's records against {key: Close | Same}; [] means passed."""
    problems, seen = [], {}
    for record in records:
        if not (isinstance(record, dict) and record.get("test") == grade_id and isinstance(record.get("key"), str)):
            return [bilingual("숨은 테스트의 결과가 아닌 것이 섞여 있습니다.", "a record that is not this test's result")]
        if "error" in record:
            return [bilingual(f"숨은 테스트가 제출한 코드를 실행하다가 오류가 났습니다: {str(record['error'])[:500]}",
                              f"your code raised an error in the hidden test: {str(record['error'])[:500]}")]
        key = record["key"]
        if key in seen:
            return [bilingual(f"같은 결과({key!r})가 두 번 나왔습니다.", f"the result {key!r} was published twice")]
        if key not in expected:
            return [bilingual(f"채점기가 모르는 결과({key!r})가 있습니다.", f"an unknown result {key!r}")]
        seen[key] = record
    for key, expectation in expected.items():
        if key not in seen:
            problems.append(bilingual(f"{expectation.what[0]}: 결과가 없습니다 (함수가 끝까지 실행되지 않았거나 돌려준 값이 모자랍니다).",
                                      f"{expectation.what[1]}: no result (the code stopped early or returned too few values)"))
            break
        problem = expectation.problem(seen[key])
        if problem:
            problems.append(problem)
    return problems

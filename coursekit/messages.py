"""How the course words a message a student reads: Korean first, the same in English on the next line.

Korean particles change with the sound a word ends in (맵은 but 텐서는, 맵을 but 텐서를), and
messages put names, numbers and shapes before them. `particle` picks the form that fits,
reading a non-Korean ending the way a Korean reader says it aloud.
"""


def bilingual(korean, english):
    """Join a Korean and an English message the way every student-facing error is written."""
    return f"{korean}\n{english}"


# How the last character reads aloud when it is not a Hangul syllable: digits as Sino-Korean numbers
# (영 일 이 삼 사 오 육 칠 팔 구), capitals letter by letter (엘 엠 엔 알 end in a consonant), lower-case
# words as loanwords (맵, 훅, 모델 end in a consonant; 텐서, 헤드, 레이어 do not).
_CONSONANT_DIGITS, _RIEUL_DIGITS = set("013678"), set("178")
_CONSONANT_CAPITALS, _RIEUL_CAPITALS = set("LMNR"), set("LR")
_CONSONANT_LOWER, _RIEUL_LOWER = set("bklmnp"), set("l")
_LOANWORD_ENDINGS = {"ng": "consonant", "ype": "consonant", "le": "rieul"}  # 트레이닝, 타입, 튜플
_BRACKETS = {")": "(", "]": "[", "}": "{"}
_SILENT = "'\"`.,;:!?"


def particle(word, forms):
    """`word` followed by the form of a particle that fits its last sound: particle("CAM", "은/는") -> "CAM은".

    `forms` is "after a consonant/after a vowel", e.g. "은/는", "이/가", "을/를", "과/와", "이어야/여야";
    "으로/로" takes 로 after ㄹ too. A trailing parenthesis explains the word before it, so the
    particle follows that word ("CAM (클래스 1)은"); a trailing index or a tuple is read out
    ("maps[0]은", "(2, 3)이어야").
    """
    consonant_form, vowel_form = forms.split("/")
    ending = _ending(str(word))
    if ending is None or (ending == "rieul" and consonant_form == "으로"):
        return f"{word}{vowel_form}"
    return f"{word}{consonant_form}"


def _ending(text):
    """None if the word ends in a vowel sound, "rieul" for a final ㄹ, "consonant" for any other final consonant."""
    text = text.rstrip()
    while text and (text[-1] in _SILENT or text[-1] in _BRACKETS):
        if text[-1] in _SILENT:
            text = text[:-1].rstrip()
            continue
        start = _opening(text)
        before, inside = text[:start].rstrip(), text[start + 1:-1].rstrip()
        text = before if text[-1] == ")" and before else inside
    if not text:
        return None
    return _final_sound(text[-1], text)


def _opening(text):
    """Index of the bracket that opens the group closed by text[-1] (0 if unbalanced)."""
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        if text[index] in _BRACKETS:
            depth += 1
        elif text[index] in _BRACKETS.values():
            depth -= 1
            if depth == 0:
                return index
    return 0


def _final_sound(last, text):
    if "\uac00" <= last <= "\ud7a3":
        final = (ord(last) - 0xAC00) % 28
        return None if final == 0 else "rieul" if final == 8 else "consonant"
    if last.isdigit():
        consonants, rieul = _CONSONANT_DIGITS, _RIEUL_DIGITS
    elif last.isupper():
        consonants, rieul = _CONSONANT_CAPITALS, _RIEUL_CAPITALS
    elif last.islower():
        consonants, rieul = _CONSONANT_LOWER, _RIEUL_LOWER
        for ending, sound in _LOANWORD_ENDINGS.items():
            if text.lower().endswith(ending):
                return sound
    else:
        return None
    return "rieul" if last in rieul else "consonant" if last in consonants else None

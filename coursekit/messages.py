"""How the course words a message a student reads: Korean first, the same in English on the next line."""


def bilingual(korean, english):
    """Join a Korean and an English message the way every student-facing error is written."""
    return f"{korean}\n{english}"

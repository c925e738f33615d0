"""`gallery demo`'s table: the records `--json` prints, in columns that line up in a terminal
even when a title is Korean (Hangul takes two columns)."""

from gallery_local import demo


def record(title: str, **extra) -> dict:
    base = {
        "visitId": "a" * 32,
        "display": "1",
        "theme": "painting",
        "language": "ko",
        "status": "DONE",
        "reason": None,
        "title": title,
        "portraitGender": "female",
        "portraitAgeBand": "young",
        "portraitSkinTone": "light",
        "rung": "gender+skinTone+ageBand",
        "timings": {"cropMs": 120, "portraitMs": 40, "swapMs": 300, "restoreMs": 250},
        "seconds": 1.234,
    }
    return base | extra


def test_columns_line_up_with_korean_titles():
    text = demo.table([record("프랑스의 비단 짜는 장인"), record("The Merchant of Italy", language="en")])
    lines = text.splitlines()
    assert len(lines) == 4
    assert len({demo._width(line.rstrip()) for line in lines[2:]}) == 1
    # Every column starts at the same place on every line: "female/young/light" is the 7th.
    starts = {demo._width(line[: line.index("female")]) for line in lines[2:]}
    assert len(starts) == 1
    assert "gender+skinTone+ageBand" in lines[2] and "1.23" in lines[3]


def test_a_refused_visit_shows_its_reason():
    text = demo.table([record(None, status="REJECTED", reason="FaceTooSmall", rung=None, portraitGender=None)])
    assert "FaceTooSmall" in text.splitlines()[2]

"""The Simplified Chinese catalogue uses full-width punctuation in Chinese text (issue 10):
an ASCII comma, colon or semicolon straight after a Chinese character reads as a typo."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
ASCII_AFTER_CJK = re.compile(rf"[{CJK}][,:;]")


def translations(path: Path) -> list[tuple[int, str]]:
    """Each msgstr (plural forms too) with its continuation lines joined, and its line number.
    Obsolete entries (#~) are skipped: they are not shown."""
    found: list[tuple[int, str]] = []
    current: list[str] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        start = re.match(r'^msgstr(?:\[\d+\])?\s+"(.*)"$', line)
        more = re.match(r'^"(.*)"$', line)
        if start:
            current = [start.group(1)]
            found.append((number, ""))
        elif more and current is not None:
            current.append(more.group(1))
        else:
            current = None
        if current is not None:
            found[-1] = (found[-1][0], "".join(current))
    return found


def test_the_chinese_catalogue_uses_full_width_punctuation_after_chinese_characters():
    entries = translations(CATALOGUE)
    assert len(entries) > 1000  # the parser read the catalogue
    ascii_after_chinese = [f"line {number}: {text}" for number, text in entries if ASCII_AFTER_CJK.search(text)]
    assert ascii_after_chinese == []


def test_the_punctuation_check_finds_an_ascii_comma_after_a_chinese_character(tmp_path):
    sample = tmp_path / "django.po"
    sample.write_text(
        'msgid "a"\nmsgstr "已批准:%(until)s 前"\n\nmsgid "b"\nmsgstr ""\n"第一行，"\n"好, 的"\n\n'
        'msgid "c"\nmsgstr "网址 https://example.org/a,b 与 %(name)s, ok"\n',
        encoding="utf-8",
    )
    flagged = [text for _number, text in translations(sample) if ASCII_AFTER_CJK.search(text)]
    assert flagged == ["已批准:%(until)s 前", "第一行，好, 的"]

"""The Chinese text a person reads outside the catalogue uses full-width punctuation too (issue 10):
the data files (checklist templates, the official calendar, the article's facts), the demo data and
the templates' own text. An ASCII , : ; ( ) ? ! next to a Chinese character reads as a typo
("垃圾桶完好,无满溢"). English text that quotes a Chinese word keeps its ASCII punctuation
("mobile party members (流动党员) hard to manage"); so do numbers, times and URLs."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
# CJK characters and punctuation, full-width forms, and the curly quotes Chinese text uses.
CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u2018-\u201d"
ASCII_MARKS = ",:;()?!"
# In Chinese text: a mark straight after a Chinese character, or before one (spaces between).
NEXT_TO_CHINESE = re.compile(rf"[{CJK}]\s*[{ASCII_MARKS}]|[{ASCII_MARKS}]\s*[{CJK}]")
# In any text, English too: a mark with a Chinese character on both sides.
BETWEEN_CHINESE = re.compile(rf"[{CJK}][{ASCII_MARKS}][{CJK}]")
TEMPLATE_SYNTAX = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}|{%.*?%}|{{.*?}}", re.DOTALL)
# What separates one piece of a template's literal text from the next: tags, quotes, lines.
TEMPLATE_TEXT_BREAKS = re.compile(r"[<>\"'\n\x00]")


def is_chinese(text: str) -> bool:
    return len(re.findall(rf"[{CJK}]", text)) >= len(re.findall(r"[A-Za-z]", text))


def misplaced(text: str) -> bool:
    pattern = NEXT_TO_CHINESE if is_chinese(text) else BETWEEN_CHINESE
    return pattern.search(text) is not None


def json_texts(path: Path) -> list[str]:
    """Every string value of a JSON file (keys are identifiers)."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            for entry in value:
                walk(entry)
        elif isinstance(value, dict):
            for entry in value.values():
                walk(entry)

    walk(json.loads(path.read_text(encoding="utf-8")))
    return found


def python_texts(path: Path) -> list[str]:
    """The string constants of a module (f-strings' literal parts too), docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def template_texts(path: Path) -> list[str]:
    """A template's literal text, piece by piece: what is left once the template language is taken
    out ({% translate %} strings are msgids, checked in the catalogue)."""
    literal = TEMPLATE_SYNTAX.sub("\x00", path.read_text(encoding="utf-8"))
    return [piece for piece in TEMPLATE_TEXT_BREAKS.split(literal) if piece.strip()]


def sources(base: Path = BASE_DIR) -> dict[Path, list[str]]:
    files: dict[Path, list[str]] = {}
    for path in sorted([*base.glob("*/data/**/*.json"), *base.glob("*/data/**/*.geojson")]):
        files[path] = json_texts(path)
    for path in sorted(base.glob("*/demo.py")):
        files[path] = python_texts(path)
    for path in sorted(base.glob("templates/**/*.html")):
        files[path] = template_texts(path)
    return files


def offending(files: dict[Path, list[str]], base: Path = BASE_DIR) -> list[str]:
    return [f"{path.relative_to(base)}: {text}" for path, texts in files.items() for text in texts if misplaced(text)]


def test_data_demo_and_templates_use_full_width_punctuation_next_to_chinese_characters():
    files = sources()
    names = {str(path.relative_to(BASE_DIR)) for path in files}
    assert {
        "grids/data/checklist_templates.json",
        "shanglong/data/calendar_cn.json",
        "shanglong/data/shanglong_facts.json",
        "grids/demo.py",
        "shanglong/demo.py",
        "templates/grids/people/import.html",
    } <= names
    chinese = [text for texts in files.values() for text in texts if re.search(rf"[{CJK}]", text)]
    assert len(chinese) > 300  # the readers found the Chinese text
    assert offending(files) == []


def test_the_check_names_the_file_and_the_text_of_each_ascii_mark_next_to_chinese(tmp_path):
    (tmp_path / "grids" / "data").mkdir(parents=True)
    (tmp_path / "grids" / "data" / "items.json").write_text(
        json.dumps(
            {
                "note": "English, with a Chinese word (差异化巡查重点清单), left as it is.",
                "items": [
                    {"text_zh": "垃圾桶完好,无满溢", "guidance": "雨前查看，雨后复查。"},
                    {"text_zh": "店内无人员住宿(“三合一”场所)", "guidance": "门前三包: 卫生"},
                    {"text_zh": "8:30前到岗，改造路面1,164米", "url": "https://example.org/a,b"},
                    {"source": "国务院办公厅关于2026年部分节假日安排的通知, dated 2025-11-04, published by Xinhua"},
                    {"mixed": "in English, but 网格,商圈 run together"},
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    (tmp_path / "grids" / "demo.py").write_text(
        '"""Demo data (文汇社区), docstrings are left out."""\n'
        'NOTES = ["电话沟通,近况平稳。", "已回复，近况平稳。", f"{1}号楼东侧:满溢", "grid, 网格01"]\n',
        encoding="utf-8",
    )
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(
        '{% load i18n %}<p title="例如:鲁园小区">{% translate "户籍状态: 户籍, 常住" %}</p>\n'
        "{# 注释,不显示 #}<p>{{ name }}、{{ other }}</p><p>已批准;请查看</p>\n",
        encoding="utf-8",
    )
    assert offending(sources(tmp_path), tmp_path) == [
        "grids/data/items.json: 垃圾桶完好,无满溢",
        "grids/data/items.json: 店内无人员住宿(“三合一”场所)",
        "grids/data/items.json: 门前三包: 卫生",
        "grids/data/items.json: in English, but 网格,商圈 run together",
        "grids/demo.py: 电话沟通,近况平稳。",
        "grids/demo.py: 号楼东侧:满溢",
        "templates/page.html: 例如:鲁园小区",
        "templates/page.html: 已批准;请查看",
    ]

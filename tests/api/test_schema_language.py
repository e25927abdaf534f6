"""/api/schema/ asked for in Chinese reads Chinese: every description, summary and title our code
writes (extend_schema, OpenApiParameter, serializer and filter help_text, the error answers of
governance.schema, the pagination's parameters, the title and description in settings) is
translated, and asked for in English it says what it said before.

What the test leaves aside, each named precisely:
- drf-spectacular's own lists of an enum's codes and labels ("* `code` - label"): the labels are the
  models' choices, translated where they are; the codes are codes;
- drf-spectacular's own wording of the token scheme (components/securitySchemes).

No docstring of a view or serializer reaches the schema: drf-spectacular would take one as an
operation's or a component's description, in English and written for the code's readers; each
operation and each such component has a description (and each operation a summary) written for the
API's readers, translated."""

from __future__ import annotations

import inspect
import re

from django.test import Client

CJK = re.compile(r"[\u4e00-\u9fff]")
ENUM_LINE = re.compile(r"^\* `[^`]*` - .*$", re.MULTILINE)
API_MODULES = (
    "governance.api",
    "grids.api",
    "mediation.api",
    "petitions.api",
    "dashboards.api",
    "dashboards.assessment_api",
)


def _schema(language: str) -> dict:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.json()


def _texts(node, path: str = "", out: dict | None = None) -> dict[str, str]:
    """Every description, summary and title in the schema, by where it is."""
    out = {} if out is None else out
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary", "title") and isinstance(value, str):
                out[f"{path}/{key}"] = value
            _texts(value, f"{path}/{key}", out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _texts(value, f"{path}[{i}]", out)
    return out


def _docstrings() -> set[str]:
    """The docstrings of every class (nested ones too) and method of the API modules, as
    drf-spectacular cleans them."""
    import importlib

    found: set[str] = set()

    def visit(cls) -> None:
        for name, member in vars(cls).items():
            if inspect.isclass(member) and member.__module__ == cls.__module__ and name != "__class__":
                visit(member)
            elif inspect.isfunction(member) and member.__doc__:
                found.add(inspect.cleandoc(member.__doc__))
        if cls.__doc__:
            found.add(inspect.cleandoc(cls.__doc__))

    for module_name in API_MODULES:
        module = importlib.import_module(module_name)
        for member in vars(module).values():
            if inspect.isclass(member) and member.__module__ == module_name:
                visit(member)
    return found


def _ranking_parameters(schema: dict) -> dict[str, str | None]:
    """stats/rankings/'s parameters' descriptions, by name."""
    return {
        p["name"]: p.get("description")
        for p in schema["paths"]["/api/v1/stats/rankings/"]["get"]["parameters"]
    }


def _ours(text: str) -> str:
    """The text less drf-spectacular's list of an enum's codes and labels."""
    return ENUM_LINE.sub("", text).strip()


def _without_row_labels(text: str) -> str:
    """The text less the Chinese labels a survey or case-count row may carry, which the English
    schema names too (its examples of what a row may hold)."""
    for label in ("很安全", "满意", "入室盗窃"):
        text = text.replace(label, "")
    return text


def test_the_schema_asked_for_in_chinese_reads_chinese(db):
    zh, en = _texts(_schema("zh-hans")), _texts(_schema("en"))
    # Titles are drf-spectacular's where a verbose name differs from the field's: more of them in Chinese.
    assert {w for w in zh if not w.endswith("/title")} == {w for w in en if not w.endswith("/title")}
    english = {
        where: text
        for where, text in zh.items()
        if _ours(text)
        and not CJK.search(_ours(text))
        and not where.startswith("/components/securitySchemes/")
    }
    assert english == {}
    # Each of ours differs from its English (a translation, not the English text with a Chinese word).
    assert {
        where: text
        for where, text in zh.items()
        if CJK.search(_without_row_labels(_ours(text))) and text == en.get(where)
    } == {}
    assert not [text for text in zh.values() if "你" in text]
    # The check is not empty: the schema has hundreds of texts, most of them ours.
    assert len([t for t in zh.values() if CJK.search(t)]) > 500


def _operations(schema: dict) -> dict[str, dict]:
    """Every operation of the schema, by method and path."""
    return {
        f"{method.upper()} {path}": operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_operation_is_described_for_the_api_reader_in_both_languages(db):
    """A summary and a description of its own, never a docstring (drf-spectacular's default, which
    left about 30 operations in English in the Chinese schema and some with none at all)."""
    zh, en = _operations(_schema("zh-hans")), _operations(_schema("en"))
    assert zh.keys() == en.keys() and len(zh) >= 38
    docstrings = _docstrings()
    for key in ("summary", "description"):
        assert [op for op, o in zh.items() if not CJK.search(o.get(key, ""))] == [], key
        assert [op for op, o in en.items() if not o.get(key) or CJK.search(o[key])] == [], key
        assert [op for op, o in {**zh, **en}.items() if o.get(key) in docstrings] == [], key
    # Two operations of one path are told apart (drf-spectacular gave a list and its POST one text).
    for schema in (zh, en):
        descriptions = [o["description"] for o in schema.values()]
        assert len(set(descriptions)) == len(descriptions)
    assert en["GET /api/v1/areas/{code}/"]["description"].startswith("One area in your scope")
    assert zh["GET /api/v1/areas/{code}/"]["description"].startswith("您管辖范围内的一个区划")


def test_no_docstring_reaches_the_chinese_schema(db):
    """(In English a field's help text may say what its method's docstring says: ``actions``.)"""
    docstrings = _docstrings()
    assert {where: text for where, text in _texts(_schema("zh-hans")).items() if text in docstrings} == {}


def test_the_schema_asked_for_in_english_says_what_it_said(db):
    schema = _schema("en")
    texts = _texts(schema)
    assert schema["info"]["title"] == "Grid governance API"
    assert schema["info"]["description"].startswith("Areas, incidents, disputes, petitions and statistics.")
    parameters = _ranking_parameters(schema)
    assert parameters["indicator"] == "an indicator code of stats/indicators/"
    assert parameters["page_size"] == (
        "rows per page, default 50: a whole number from 1 (anything else is a 400 keyed page_size); "
        "over 500 gives 500"
    )
    post = schema["paths"]["/api/v1/incidents/"]["post"]["responses"]
    assert post["413"]["description"] == (
        "The request body is too large: a JSON body over 1 MB, or any body over 80 MB. Nothing was read or saved."
    )
    imports = schema["paths"]["/api/v1/stats/case-counts/"]["post"]["responses"]
    assert imports["413"]["description"].endswith(
        "Nothing was read or saved. Split the rows into several imports."
    )
    step = schema["components"]["schemas"]["IncidentTransitionApiInputRequest"]["properties"]
    assert step["photos"]["description"].startswith(
        "feedback and verify only (the report's photos go with it to POST /api/v1/incidents/): up to 6 "
    )
    assert step["resolution"]["description"] == "feedback"
    submission = schema["components"]["schemas"]["IncidentListApiInputRequest"]["properties"]["submission"]
    assert submission["description"] == (
        "a key of the client's choosing (a UUID): a report sent again with the key of one already saved "
        "answers with that report instead of saving a second"
    )
    # Nothing in the English schema is Chinese but the labels a survey or case-count row may carry.
    assert [t for t in texts.values() if CJK.search(_without_row_labels(t))] == []


def test_the_chinese_schema_words_parameters_and_limits_in_chinese(db):
    schema = _schema("zh-hans")
    parameters = _ranking_parameters(schema)
    assert parameters["indicator"] == "stats/indicators/ 中的指标代码"
    assert parameters["page_size"] == (
        "每页行数，默认 50：从 1 起的整数（其他值返回键为 page_size 的 400）；超过 500 时按 500 返回"
    )
    assert schema["paths"]["/api/v1/incidents/"]["post"]["responses"]["413"]["description"] == (
        "请求体过大：JSON 请求体超过 1 MB，或任何请求体超过 80 MB。未读取也未保存任何内容。"
    )
    assert schema["info"]["title"] == "网格化服务管理接口"


def test_sentences_joined_in_the_chinese_schema_leave_no_space_after_a_full_stop(db):
    """A description made of two translated sentences (a read's own, then what every statistics read
    answers) is joined as a Chinese page joins them: "…。返回…", not "…。 返回…". A paragraph break
    (a blank line, as before the list of a field's choices) is no space: Markdown renders one newline
    as a space, two as a new paragraph."""
    spaced = {
        where: text
        for where, text in _texts(_schema("zh-hans")).items()
        if re.search(r"[。；：，](?!\n\n)\s", text)
    }
    assert spaced == {}

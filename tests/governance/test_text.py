"""Messages joined from sentences: one space in English, none after Chinese full-width punctuation
("未批准。 批准…" read with a stray space)."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import gettext_lazy

from governance.forms import errors_text
from governance.text import gap_before, join_sentences
from governance.workflow import ActionInvalid


@pytest.mark.parametrize(
    ("parts", "joined"),
    [
        (["Not approved.", "Approve it later."], "Not approved. Approve it later."),
        (["Please correct these fields:", "Reason"], "Please correct these fields: Reason"),
        (["未批准。", "批准后计分。"], "未批准。批准后计分。"),
        (["请填写原因！", "再试一次？", "好"], "请填写原因！再试一次？好"),
        (["请修改以下字段：", "原因"], "请修改以下字段：原因"),
        (["甲；", "乙"], "甲；乙"),
        (["未批准。 ", "", "  批准"], "未批准。批准"),
        (["Done.", "完成。"], "Done. 完成。"),
    ],
)
def test_sentences_are_joined_with_a_space_except_after_full_width_punctuation(parts, joined):
    assert join_sentences(parts) == joined


def test_lazy_translations_are_joined_in_the_active_language():
    parts = [gettext_lazy("Not approved."), gettext_lazy("Not saved.")]
    with translation.override("en"):
        assert join_sentences(parts) == "Not approved. Not saved."
    with translation.override("zh-hans"):
        assert join_sentences(parts) == "未批准。未保存。"


def test_form_and_service_errors_join_their_sentences_by_language():
    class Form(forms.Form):
        reason = forms.CharField(label="原因")

    errors = {"reason": ["请填写原因。", "原因过短。"]}
    with translation.override("zh-hans"):
        assert errors_text(errors, Form()) == "原因：请填写原因。原因过短。"
    assert errors_text(ValidationError(["未保存。", "请重试。"])) == "未保存。请重试。"
    assert errors_text(ValidationError(["Not saved.", "Try again."])) == "Not saved. Try again."
    assert (
        str(ActionInvalid("note", "请填写备注。", also={"reason": "请填写原因。"}))
        == "请填写备注。请填写原因。"
    )
    assert str(ActionInvalid("note", "Give a note.", also={"reason": "Give a reason."})) == (
        "Give a note. Give a reason."
    )


@pytest.mark.parametrize(
    ("language", "shown"), [("en", "Not approved. Past the cap."), ("zh-hans", "未批准。Past the cap.")]
)
def test_the_template_filter_puts_the_same_gap(language, shown):
    template = Template(
        '{% load i18n sentences %}{% translate "Not approved." as lead %}{{ lead }}{{ lead|gap_after }}{{ m }}'
    )
    with translation.override(language):
        assert template.render(Context({"m": "Past the cap."})) == shown


@pytest.mark.parametrize(
    ("aside", "gap"),
    [("(28 days left)", " "), ("（剩余 28 天）", ""), ("《条例》", ""), ("“引文”", ""), ("(", " ")],
)
def test_an_aside_follows_its_word_after_a_space_except_before_a_full_width_bracket(aside, gap):
    assert gap_before(aside) == gap
    rendered = Template("{% load sentences %}2027-01-04{{ aside|gap_before }}{{ aside }}").render(
        Context({"aside": aside})
    )
    assert rendered == f"2027-01-04{gap}{aside}"


def test_a_labels_closing_bracket_is_kept_whole_and_escaped():
    from governance.templatetags.sentences import aside_whole

    assert aside_whole("书面答复（60 + 20 日）") == '书面答复<span class="nowrap">（60 + 20 日）</span>'
    assert (
        aside_whole("Written reply (60 + 20 days)")
        == 'Written reply <span class="nowrap">(60 + 20 days)</span>'
    )
    assert aside_whole("<b>(x)</b>") == "&lt;b&gt;(x)&lt;/b&gt;"
    assert aside_whole("a <b> (1 & 2)") == 'a &lt;b&gt; <span class="nowrap">(1 &amp; 2)</span>'
    assert aside_whole("复查决定期限") == "复查决定期限"

"""Console languages: every message id translated, Accept-Language, formatting per locale."""

from __future__ import annotations

import re

from web import catalog, i18n


def test_every_message_id_has_a_chinese_translation() -> None:
    """Add a string to a page and forget the .po: this fails (fix: python -m web.catalog)."""
    assert catalog.missing("zh_CN") == []


def test_the_catalog_is_not_empty_and_compiles() -> None:
    ids = [m.id for m in catalog.extracted() if m.id]
    assert len(ids) > 100
    assert i18n.lang("zh_CN").gettext("Floor board") == "实时监控"
    assert i18n.lang("en").gettext("Floor board") == "Floor board"


def test_plural_and_values_are_filled_in() -> None:
    en, zh = i18n.lang("en"), i18n.lang("zh_CN")
    assert en.ngettext("Placing %(num)d call", "Placing %(num)d calls", 1) == "Placing 1 call"
    assert en.ngettext("Placing %(num)d call", "Placing %(num)d calls", 14) == "Placing 14 calls"
    assert zh.ngettext("Placing %(num)d call", "Placing %(num)d calls", 14) == "发起 14 个呼叫"
    assert zh.gettext("Legal cap: %(cap)s.", cap="3%") == "法定上限：3%。"


def test_accept_language_picks_the_best_supported() -> None:
    assert i18n.from_accept_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh_CN"
    assert i18n.from_accept_language("fr-FR, en-GB;q=0.5, zh;q=0.4") == "en"
    assert i18n.from_accept_language("de, fr") is None
    assert i18n.from_accept_language("zh;q=0, en") == "en"
    assert i18n.lang(None).code == i18n.DEFAULT


def test_numbers_percent_and_durations() -> None:
    en, zh = i18n.lang("en"), i18n.lang("zh_CN")
    assert en.number(12345) == "12,345"
    assert en.percent(0.0312) == "3.1%"
    assert zh.percent(None) == "—"
    assert en.duration(65) == "1:05" and en.duration(3725) == "1:02:05"
    assert "Asia/Shanghai" in zh.datetime(
        __import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").UTC),
        "Asia/Shanghai",
    )


def test_a_campaign_is_called_by_the_glossary_word() -> None:
    """shared/glossary.md: a campaign is 外呼任务 ("活动" reads as marketing only)."""
    have = catalog.current("zh_CN")
    wrong = [m.id for m in have if m.id and "活动" in str(m.string)]
    assert wrong == []


def test_the_upload_page_names_lawful_bases_in_words() -> None:
    """The upload page once offered the raw codes (legitimate_interest, ...) in Chinese."""
    from compliance.profiles import LAWFUL_BASES
    from web.shell import label

    zh = i18n.lang("zh_CN")
    for basis in LAWFUL_BASES:
        words = zh.gettext(label("basis", basis))
        assert words != basis and "_" not in words


def test_a_calls_outcome_reads_in_words_in_the_desks_history() -> None:
    """The desk's "earlier calls" once showed the raw code (no_answer) on a Chinese page."""
    from web.shell import label

    zh = i18n.lang("zh_CN")
    for code in ("no_answer", "busy", "failed", "abandoned", "completed", "bad_number"):
        words = zh.gettext(label("outcome", code))
        assert words != code and "_" not in words
    assert label("outcome", "回访成功 / Done") == "回访成功 / Done"  # a disposition label stays


def test_chinese_sentences_use_full_width_punctuation() -> None:
    """Between Chinese words a comma, semicolon or colon is full width (，；：), and a
    bracket after Chinese words is （）: the pacer's notes once read "渐进式外呼: 每名...".
    ASCII stays where it is code or a formula: sip:用户@主机, (通话 + 话后处理) / 通话数."""
    cjk = "[\u4e00-\u9fff]"
    mixed = re.compile(rf"{cjk} ?[,;:] ?{cjk}|{cjk} ?\(|\) ?{cjk}")
    wrong = []
    for m in catalog.current("zh_CN"):
        strings = m.string if isinstance(m.string, tuple | list) else [m.string]
        wrong += [s for s in strings if s and mixed.search(s)]
    assert wrong == []
    assert mixed.search("渐进式外呼: 每名示闲坐席 1 路") and mixed.search("人员(管理员)")

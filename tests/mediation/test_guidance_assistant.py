"""The assistant on questions it was not built from (``guidance_heldout.yaml``): top-1 accuracy on
paraphrased questions and the decline rate on off-topic ones, printed and held to stated floors.
Tuning (synonyms, keywords, thresholds) is done on ``guidance_dev.yaml``, never on the held-out set."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mediation.guidance.assistant import Assistant, shipped_entries

HELD_OUT = yaml.safe_load((Path(__file__).parent / "guidance_heldout.yaml").read_text(encoding="utf-8"))
#: Floors below which the test fails (the goals are 90 % and 95 %; see README, "Guidance").
ACCURACY_FLOOR = 0.91
DECLINE_FLOOR = 0.95


@pytest.fixture(scope="module")
def assistant() -> Assistant:
    return Assistant(shipped_entries())


def test_the_knowledge_base_is_complete_and_cited() -> None:
    entries = shipped_entries()
    assert len(entries) >= 60
    assert len({e.id for e in entries}) == len(entries)
    for e in entries:
        assert e.source.strip() and e.answer_zh.strip() and e.answer_en.strip(), e.id
    wanted = {q["expect"] for q in HELD_OUT["questions"]}
    assert wanted <= {e.id for e in entries}


def test_top1_accuracy_on_held_out_questions(assistant: Assistant) -> None:
    questions = HELD_OUT["questions"]
    assert len(questions) >= 60
    misses = []
    for item in questions:
        reply = assistant.reply(item["q"])
        got = reply.citation.entry_id if reply.citation and reply.outcome != "declined" else None
        if got != item["expect"]:
            misses.append(f"{item['q']} -> {got} ({reply.outcome}, {reply.confidence}), want {item['expect']}")
    accuracy = 1 - len(misses) / len(questions)
    print(f"\nassistant top-1 accuracy: {accuracy:.1%} of {len(questions)}")
    assert accuracy >= ACCURACY_FLOOR, "\n".join(misses)


def test_off_topic_questions_are_declined(assistant: Assistant) -> None:
    questions = HELD_OUT["off_topic"]
    answered = [q for q in questions if assistant.reply(q).outcome != "declined"]
    rate = 1 - len(answered) / len(questions)
    print(f"\nassistant declines {rate:.1%} of {len(questions)} off-topic questions")
    assert rate >= DECLINE_FLOOR, answered


def test_answers_cite_their_entry_in_the_asked_language(assistant: Assistant) -> None:
    zh = assistant.reply("司法确认要交钱吗")
    assert zh.outcome == "answer" and zh.lang == "zh" and zh.citation is not None
    entry = next(e for e in assistant.entries if e.id == zh.citation.entry_id)
    assert zh.text == entry.answer_zh and zh.citation.source == entry.source
    en = assistant.reply("Does judicial confirmation cost a fee?")
    assert en.lang == "en" and en.citation is not None and en.citation.entry_id == entry.id
    assert en.text == entry.answer_en
    declined = assistant.reply("红烧肉怎么做")
    assert declined.outcome == "declined" and declined.citation is None and declined.offer_consultation

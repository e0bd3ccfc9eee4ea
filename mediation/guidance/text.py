"""Turning Chinese and English text into search terms for BM25: jieba segmentation (search mode),
lower-cased English words, stop words dropped, synonyms folded onto one word.

The synonym table (``synonyms.yaml``) is what lets "打官司" find an entry written with "起诉";
its words also enter the segmenter's dictionary so multi-character synonyms stay whole.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

import jieba
import yaml

HERE = Path(__file__).parent
CJK = re.compile(r"[\u3400-\u9fff]+")
WORD = re.compile(r"[\u3400-\u9fff]+|[a-z0-9]+(?:'[a-z]+)?")

#: Amounts, counts and spans ("两万块", "三个月", "20000"): they help ranking when they match
#: (as fragments), but no question is about a number, so they never count as a subject word.
QUANTITY = re.compile(r"[0-9零一二两三四五六七八九十百千万亿半多]*[0-9零二两三四五六七八九十百千万亿半]"
                      r"[0-9零一二两三四五六七八九十百千万亿半多块钱元年个月天日号周次岁倍]*")

#: Words that say nothing about the subject of a question.
STOP_WORDS = frozenset("""
的 了 吗 呢 吧 啊 呀 么 嘛 是 在 有 和 与 或 及 就 都 也 还 又 被 把 给 对 向 从 到 让 跟 个 这 那 这个 那个
我 你 他 她 它 我们 你们 他们 自己 人家 什么 怎么 怎么样 怎样 如何 为什么 哪 哪些 能 能不能
可以 可不 要 需要 应该 会 该 想 请问 请 一下 一般 没有 没 不 吗？ 之后 以后 时候 如果 因为 所以 但是 还是 现在
一直 已经 直接 然后 就是 哦 嗯 等 之 其 这样 那样 东西 事 事情 问题 办 怎么办 处理 解决
我要 我想 得 找 行 行吗 行不行 帮 帮我 还能 是不是 有没有 会不会 可不可以 弄 搞 老是 总是 天天 后来 结果
期间 上去 下来 起来 出来 着 过 不能 不会 不了
a an the is are was were be been being do does did doing i me my we our you your he him his she her it its they
them their what which who whom how when where why can could should would will shall may might must to of in on
at by for with about from into over after before up down out off again then there here this that these those
and or but if so than too very not no yes am has have had get got go going any some all each other own same
just also only please tell know want need s t
""".split())


#: Characters whose pairs carry nothing ("的是", "了吗").
STOP_CHARS = frozenset("的了吗呢吧啊呀么嘛是在有和与或就都也还又被把给对向从到让跟个这那我你他她它们什怎么样如何哪几能可以要会该想请一下")


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, str]:
    groups = yaml.safe_load((HERE / "synonyms.yaml").read_text(encoding="utf-8"))["groups"]
    table: dict[str, str] = {}
    for group in groups:
        canonical = str(group[0]).lower()
        for word in group:
            table.setdefault(str(word).lower(), canonical)
    return table


@lru_cache(maxsize=1)
def intent_words() -> frozenset[str]:
    """The synonym table's ``intent`` list: words naming what a question asks about."""
    return frozenset(yaml.safe_load((HERE / "synonyms.yaml").read_text(encoding="utf-8")).get("intent", ()))


@lru_cache(maxsize=1)
def generic_words() -> frozenset[str]:
    """The table's ``generic`` list: words such as 费用 or 期限 that every other kind of question uses too."""
    return frozenset(yaml.safe_load((HERE / "synonyms.yaml").read_text(encoding="utf-8")).get("generic", ()))


@lru_cache(maxsize=1)
def subject_words() -> frozenset[str]:
    """The table's words for what disputes and procedures are about (its groups' first words, less
    the generic ones)."""
    groups = yaml.safe_load((HERE / "synonyms.yaml").read_text(encoding="utf-8"))["groups"]
    return frozenset(str(g[0]).lower() for g in groups) - generic_words()


@lru_cache(maxsize=1)
def _cjk_synonyms() -> re.Pattern[str]:
    """The table's Chinese words of two characters or more, longest first, to find inside a run:
    the segmenter may cut "一直不还" as 一直/不/还 and lose "不还"."""
    words = sorted((w for w in _synonyms() if len(w) >= 2 and CJK.fullmatch(w)), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words)))


@lru_cache(maxsize=1)
def _segmenter() -> jieba.Tokenizer:
    """A private jieba instance (not the module-global one) with the synonyms as dictionary words."""
    jieba.setLogLevel(logging.WARNING)
    segmenter = jieba.Tokenizer()
    for word in _synonyms():
        if CJK.fullmatch(word):
            segmenter.add_word(word, freq=2000)
    return segmenter


def _phrases(text: str) -> list[str]:
    """English multi-word synonyms ("payment order") are matched before splitting into words."""
    found = []
    for phrase, canonical in _synonyms().items():
        if " " in phrase and phrase in text:
            found.append(canonical)
    return found


def terms(text: str) -> list[str]:
    """The search terms of ``text``, in order, duplicates kept (BM25 counts them)."""
    text = text.lower()
    synonyms = _synonyms()
    out: list[str] = _phrases(text)
    segmenter = _segmenter()
    for match in WORD.finditer(text):
        piece = match.group()
        if not CJK.fullmatch(piece):
            if piece.isdigit():
                out.append(f"~{piece}")
            elif piece not in STOP_WORDS:
                out.append(synonyms.get(_singular(piece), _singular(piece)))
            continue
        found = []
        cut = list(segmenter.cut_for_search(piece))
        whole = [w for w in cut if w in synonyms]
        for word in cut:
            if word not in synonyms and any(word in w for w in whole):
                continue  # a piece of a table word ("拍下" of "拍下来"): the whole word says it
            if word in synonyms:
                found.append(synonyms[word])
            elif word in STOP_WORDS:
                continue
            elif QUANTITY.fullmatch(word) or len(word) == 1:
                # Numbers, and single characters outside the table ("字", "算", "登"): everyday
                # speech is full of them, and they seldom say what a question is about.
                found.append(f"~{word}")
            else:
                found.append(word)
        # Table words the segmenter cut apart, each meaning once.
        found.extend(sorted({synonyms[m.group()] for m in _cjk_synonyms().finditer(piece)} - set(found)))
        out.extend(found)
        out.extend(_bigrams(piece))
    return out


def _bigrams(run: str) -> list[str]:
    """Overlapping character pairs of a Chinese run (marked with "~" so they never equal a word):
    they let a paraphrase that the segmenter splits differently still meet its entry."""
    return [f"~{run[i:i + 2]}" for i in range(len(run) - 1)
            if run[i] not in STOP_CHARS and run[i + 1] not in STOP_CHARS]


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def warm_up() -> None:
    """Load the segmenter's dictionary (about half a second) before the first question."""
    terms("调解")

"""Chinese word boundaries for the line breaker: where a break would cut a word in two (请理/性消费).

Segmentation is jieba's (a core dependency), but with a smaller word list than jieba's own: the full dictionary
costs ~0.5 s to load in every process, even from jieba's cache, which a poster run cannot afford; the vendored subset
(assets/jieba/dict.small.txt, see its README) loads several times faster and finds nearly the same boundaries in
poster copy (where it differs, it splits a compound into its words: 仔细阅读 → 仔细 / 阅读). Finance and poster
words are added from configs/lexicon/words-zh.txt. Everything is loaded lazily, once per process, and
only when a line must break inside a run of Chinese characters (linebreak.py decides that).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from ..errors import ConfigError
from ..paths import configs_dir, data_root

__all__ = ["pieces", "tokenizer", "user_words", "word_spans"]

# Unified ideographs (basic, extension A, compatibility). Only words made of these are kept whole here: digits,
# Latin words and punctuation have their own rules in linebreak.py.
_HAN_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_DOUBLED = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])\1")


def dict_path() -> Path:
    return data_root() / "assets" / "jieba" / "dict.small.txt"


def user_words_path() -> Path:
    return configs_dir() / "lexicon" / "words-zh.txt"


def user_words(path: Path | None = None) -> list[tuple[str, int | None]]:
    """(word, count or None) from a `word [count]` file; `#` starts a comment line."""
    path = path or user_words_path()
    out: list[tuple[str, int | None]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) > 2 or (len(fields) == 2 and not fields[1].isdigit()):
            raise ConfigError(f"expected 'word' or 'word count', got {line.strip()!r}", file=path, line=n,
                              hint="one word per line, optionally followed by a whole number, e.g. '保额 30'")
        out.append((fields[0], int(fields[1]) if len(fields) == 2 else None))
    return out


@lru_cache(maxsize=1)
def tokenizer():
    """A jieba Tokenizer over the vendored word list plus the poster words; None when jieba is not installed
    (a broken install: lines then break between any characters, as before words were known)."""
    try:
        import jieba
    except ImportError:
        return None
    tk = jieba.Tokenizer()
    # Build the prefix dictionary directly instead of calling tk.initialize(): initialize() logs to stderr at
    # DEBUG level through jieba's own handler and writes a cache file to the temp dir; neither is wanted here.
    # Parsing the text list costs about 3x reading such a marshal cache, tens of milliseconds, once per process.
    with dict_path().open("rb") as f:
        tk.FREQ, tk.total = jieba.Tokenizer.gen_pfdict(f)
    tk.initialized = True
    for word, count in user_words():
        tk.add_word(word, count)   # count None: jieba's suggest_freq, just enough to beat the word's own pieces
    return tk


@lru_cache(maxsize=4096)
def word_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of every word of 2+ Chinese characters in text, and of the smaller words inside each word
    of 3+ (股份有限公司 → 股份, 有限公司 → 有限, 公司), nested like a tree. A break strictly inside a span cuts that
    word; the line breaker cuts a word only when it is wider than the line, and then at its pieces first.
    Memoised: a poster fits the same strings at many sizes and widths."""
    tk = tokenizer()
    if tk is None:
        return ()
    out: list[tuple[int, int]] = []
    pos = 0
    # HMM off: only words the dictionary knows are kept whole. jieba's HMM guesses words for runs the dictionary
    # does not know; a wrong guess would forbid a good break, a missing word only leaves one more break allowed.
    alone = set()                       # where the word list saw a single character
    for word in tk.cut(text, HMM=False):
        if len(word) > 1 and _HAN_WORD.fullmatch(word):
            _nest(word, pos, out)
        elif len(word) == 1:
            alone.add(pos)
        pos += len(word)
    # A doubled character the word list lacks (稳稳, 满满) is still one word: never 稳 / 稳. Only between two lone
    # characters, so 今天天气 keeps its break 今天 / 天气.
    for m in _DOUBLED.finditer(text):
        if m.start() in alone and m.start() + 1 in alone:
            out.append(m.span())
    return tuple(out)


def _nest(word: str, start: int, out: list[tuple[int, int]]) -> None:
    out.append((start, start + len(word)))
    if len(word) > 2:
        for piece in pieces(word):
            if len(piece) > 1:
                _nest(piece, start, out)
            start += len(piece)


@lru_cache(maxsize=4096)
def pieces(word: str) -> tuple[str, ...]:
    """The most likely split of a word into smaller dictionary words (业绩比较基准 → 业绩 比较 基准), single
    characters where there are none: jieba's own best-path search with the whole word taken out."""
    tk = tokenizer()
    n = len(word)
    dag = tk.get_DAG(word)
    dag[0] = [j for j in dag[0] if j < n - 1] or [0]
    route: dict[int, tuple[float, int]] = {}
    tk.calc(word, dag, route)
    out, i = [], 0
    while i < n:
        j = route[i][1] + 1
        out.append(word[i:j])
        i = j
    return tuple(out)

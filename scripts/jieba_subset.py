#!/usr/bin/env python3
"""Regenerate ``assets/jieba/dict.small.txt``, the word list mkt's line breaker segments with.

Why a subset: loading jieba's full dictionary (349 046 words) costs ~0.5 s per process even from its cache, and
``mkt poster`` should finish in under 2 s. Line breaking only needs to know where common words end, and this list
loads in about a seventh of the time (~0.07 s) with nearly the same breaks on poster copy (finance words jieba lacks or ranks
low are added at run time from ``configs/lexicon/words-zh.txt``).

What is kept, from the ``dict.txt`` of the *installed* jieba package (nothing is downloaded):

* the ``--top`` most frequent entries (default 50 000), whatever their length;
* every single character (they compete with words in jieba's best-path search, so dropping them skews it);
* every two-character word counted at least ``--two-min`` times (default 10): most of the breaks that matter fall
  between two-character words, and many are rare in jieba's corpus but common on posters (春耕 备耕 保额 免责 承保).

Each line is ``word count`` (jieba's part-of-speech tag is dropped: it is not used), in jieba's own order, so the
same jieba version always gives the same bytes. Run from the repository root::

    python scripts/jieba_subset.py            # writes assets/jieba/dict.small.txt
"""
from __future__ import annotations

import argparse
from pathlib import Path


def subset(dict_txt: Path, top: int, two_min: int) -> list[tuple[str, int]]:
    rows = []
    for line in dict_txt.read_text(encoding="utf-8").splitlines():
        word, count = line.split(" ")[:2]
        rows.append((word, int(count)))
    # The count of the top-th entry; ties at the threshold are all kept, so the result does not depend on sorting.
    floor = sorted((c for _, c in rows), reverse=True)[min(top, len(rows)) - 1]
    return [(w, c) for w, c in rows if c >= floor or len(w) == 1 or (len(w) == 2 and c >= two_min)]


def main() -> None:
    import jieba

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", type=int, default=50_000, help="keep the N most frequent words (default 50000)")
    ap.add_argument("--two-min", type=int, default=10, help="keep two-character words counted ≥ this (default 10)")
    ap.add_argument("--out", type=Path, default=Path("assets/jieba/dict.small.txt"))
    args = ap.parse_args()
    src = Path(jieba.__file__).with_name("dict.txt")
    rows = subset(src, args.top, args.two_min)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text("".join(f"{w} {c}\n" for w, c in rows), encoding="utf-8")
    tmp.replace(args.out)
    print(f"{args.out}: {len(rows)} of {sum(1 for _ in src.open(encoding='utf-8'))} words from jieba "
          f"{jieba.__version__} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

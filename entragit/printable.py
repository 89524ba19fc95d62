"""Text from Graph or from a file, made safe to show in a terminal or a plain-text report.

A display name is chosen by whoever can edit the object, and a file by whoever can open a pull request, so
either may carry characters that drive the reader's terminal (ESC sequences clear the screen or set the window
title), start a line of their own (a newline forging `+ users/fake.yaml`), reorder what the reviewer reads
(Unicode bidi overrides, the "Trojan Source" characters), or cannot be encoded at all (a lone surrogate, which
JSON allows). Each such character is shown as an escape instead; ordinary text, accents and CJK included, is
left as it is. Backslashes are left alone too: `CONTOSO\\admin` reads as it should, at the price of a name
that spells `\\x1b` out reading like one that holds an ESC.
"""

from __future__ import annotations

import re

# C0 controls, DEL and the C1 controls; the Arabic letter mark, LRM and RLM, the bidi embeddings and
# overrides (U+202A-U+202E) and isolates (U+2066-U+2069); the line and paragraph separators, which some
# viewers break lines at; lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str) -> str:
    """text with every control, bidi and unencodable character shown escaped (\\n, \\x1b, \\u202e)."""
    return _UNSAFE.sub(_escape, text)


def printable_lines(text: str) -> str:
    """printable, keeping the line breaks: for a multi-line value shown where a line break cannot forge
    anything (inside an HTML <pre>)."""
    return "\n".join(printable(line) for line in text.split("\n"))

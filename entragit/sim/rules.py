"""Dynamic membership rules, evaluated by the simulator so that membership follows user attributes.

Entra recomputes a dynamic group when a member's attributes change; entragit's restore relies on that
(blanked extension attributes drop users from 'Sales EMEA (dynamic)', restoring them brings them back),
so the simulator must compute membership rather than store it.
Supported: user.<property> with -eq, -ne, -startsWith, -contains; -and, -or, -not; parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from entragit.sim.model import EXTENSION_ATTRIBUTES, USER_PROPERTIES

UserPredicate = Callable[[Mapping[str, Any]], bool]


class RuleError(ValueError):
    pass


_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|(\()|(\))|(-[A-Za-z]+)|(user\.\w+)|(true|false|null))', re.IGNORECASE)

_COMPARISONS: dict[str, Callable[[str | None, Any], bool]] = {
    "-eq": lambda actual, wanted: _norm(actual) == _norm(wanted),
    "-ne": lambda actual, wanted: _norm(actual) != _norm(wanted),
    "-startswith": lambda actual, wanted: actual is not None and _norm(actual).startswith(_norm(wanted)),
    "-contains": lambda actual, wanted: actual is not None and _norm(wanted) in _norm(actual),
}


def _norm(value: Any) -> Any:
    # Rule string comparisons in Entra are case-insensitive.
    return value.lower() if isinstance(value, str) else value


def _attribute_reader(name: str) -> Callable[[Mapping[str, Any]], Any]:
    lowered = name.lower()
    for attribute in EXTENSION_ATTRIBUTES:
        if attribute.lower() == lowered:
            # In rules, user.extensionAttributeN means onPremisesExtensionAttributes.extensionAttributeN.
            return lambda user: (user.get("onPremisesExtensionAttributes") or {}).get(attribute)
    for prop, kind in USER_PROPERTIES.items():
        if prop.lower() == lowered and kind in ("str", "bool"):
            return lambda user: user.get(prop)
    raise RuleError(f"Unsupported property 'user.{name}' in membership rule.")


def parse_rule(text: str) -> UserPredicate:
    tokens: list[str] = []
    index = 0
    while text[index:].strip():
        match = _TOKEN.match(text, index)
        if not match:
            raise RuleError(f"Invalid membership rule at position {index}: {text!r}")
        tokens.append(match.group(0).strip())
        index = match.end()
    parser = _Parser(tokens)
    predicate = parser.expression()
    if parser.pos != len(tokens):
        raise RuleError(f"Unexpected '{tokens[parser.pos]}' in membership rule {text!r}")
    return predicate


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def _next(self) -> str:
        if self.pos >= len(self.tokens):
            raise RuleError("Membership rule ends too early.")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def _accept(self, word: str) -> bool:
        if self.pos < len(self.tokens) and self.tokens[self.pos].lower() == word:
            self.pos += 1
            return True
        return False

    def expression(self) -> UserPredicate:
        terms = [self._conjunction()]
        while self._accept("-or"):
            terms.append(self._conjunction())
        return terms[0] if len(terms) == 1 else (lambda user: any(t(user) for t in terms))

    def _conjunction(self) -> UserPredicate:
        terms = [self._term()]
        while self._accept("-and"):
            terms.append(self._term())
        return terms[0] if len(terms) == 1 else (lambda user: all(t(user) for t in terms))

    def _term(self) -> UserPredicate:
        if self._accept("-not"):
            inner = self._term()
            return lambda user: not inner(user)
        token = self._next()
        if token == "(":
            inner = self.expression()
            if self._next() != ")":
                raise RuleError("Missing ')' in membership rule.")
            return inner
        if not token.lower().startswith("user."):
            raise RuleError(f"Expected 'user.<property>' in membership rule, found '{token}'.")
        read = _attribute_reader(token[5:])
        operator = self._next().lower()
        compare = _COMPARISONS.get(operator)
        if compare is None:
            raise RuleError(f"Unsupported operator '{operator}' in membership rule.")
        wanted = _literal(self._next())
        return lambda user: compare(read(user), wanted)


def _literal(token: str) -> Any:
    if token.startswith('"'):
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    words = {"true": True, "false": False, "null": None}
    if token.lower() in words:
        return words[token.lower()]
    raise RuleError(f"Expected a value in membership rule, found '{token}'.")

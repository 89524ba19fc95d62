"""OData query options as Graph's directory endpoints apply them: $select, $top, $skiptoken, $filter, $expand, $count."""

from __future__ import annotations

import base64
import binascii
import bisect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

from entragit.sim.catalog import BY_NAME
from entragit.sim.errors import GraphFault, bad_request, unsupported_query
from entragit.sim.model import CollectionSpec

MAX_TOP = 999
# With $expand Graph caps the outer page at 100 whatever $top says (graph-behaviour §1, observed).
EXPAND_PAGE_CAP = 100

Predicate = Callable[[Mapping[str, Any]], bool]
T = TypeVar("T")


def _object_id(item: Any) -> str:
    return str(item["id"])


_KNOWN_OPTIONS = ("$select", "$top", "$skiptoken", "$filter", "$expand", "$count", "$search", "$orderby", "$skip")


@dataclass(frozen=True)
class QueryTarget:
    """What a query runs against: the property names it may name and the type that names appear in messages."""

    type_name: str
    resource_name: str
    properties: Mapping[str, str]
    filterable: frozenset[str] = frozenset()
    # navigation property -> the target its nested $select is checked against
    expandable: Mapping[str, QueryTarget] = field(default_factory=dict)


@dataclass
class Query:
    pairs: list[tuple[str, str]]
    select: tuple[str, ...] | None = None
    top: int | None = None
    skiptoken: str | None = None
    where: Predicate | None = None
    # navigation property -> nested $select (None: the target's default properties)
    expand: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    count: bool = False


def parse_query(pairs: list[tuple[str, str]], target: QueryTarget, *, eventual: bool) -> Query:
    seen: set[str] = set()
    query = Query(pairs=pairs)
    # Advanced queries (user-list's guest users example): ConsistencyLevel: eventual with $count=true.
    advanced = eventual and any(k.lower() == "$count" and v.lower() == "true" for k, v in pairs)
    for raw_key, value in pairs:
        key = raw_key.lower()
        if not key.startswith("$"):
            continue  # Graph ignores parameters that are not query options.
        if key in seen:
            raise bad_request(
                f"Query option '{raw_key}' was specified more than once, but it must be specified at most once."
            )
        seen.add(key)
        if key == "$select":
            query.select = parse_select(value, target)
        elif key == "$top":
            query.top = parse_top(value)
        elif key == "$skiptoken":
            query.skiptoken = value
        elif key == "$filter":
            query.where = FilterParser(value, target, advanced=advanced).parse()
        elif key == "$expand":
            query.expand = _parse_expand(value, target)
        elif key == "$count":
            # Without ConsistencyLevel: eventual, $count=true is silently ignored (graph-behaviour §1).
            query.count = eventual and value.lower() == "true"
        elif key == "$search":
            if not eventual:
                raise unsupported_query(
                    "Request with $search query parameter only works through MSGraph with a special request header: "
                    "'ConsistencyLevel: eventual'"
                )
            raise unsupported_query("$search is not supported by the simulated tenant.")
        elif key in ("$orderby", "$skip"):
            raise unsupported_query(f"'{raw_key}' is not supported by the service.")
        else:
            raise bad_request(f"Query option '{raw_key}' is not allowed. Supported options: {', '.join(_KNOWN_OPTIONS)}.")
    return query


def parse_select(value: str, target: QueryTarget) -> tuple[str, ...]:
    by_lower = {name.lower(): name for name in target.properties}
    names: list[str] = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        canonical = by_lower.get(item.lower())
        if canonical is None:
            raise bad_request(f"Could not find a property named '{item}' on type '{target.type_name}'.")
        if canonical not in names:
            names.append(canonical)
    return tuple(names)


def parse_top(value: str) -> int:
    try:
        top = int(value)
    except ValueError:
        raise bad_request(f"Invalid value '{value}' for query option '$top'.") from None
    if not 1 <= top <= MAX_TOP:
        raise unsupported_query(f"Invalid page size specified: '{top}'. Must be between 1 and {MAX_TOP} inclusive.")
    return top


_EXPAND_ITEM = re.compile(r"^\s*(\w+)\s*(?:\((.*)\))?\s*$")


def _parse_expand(value: str, target: QueryTarget) -> dict[str, tuple[str, ...] | None]:
    expand: dict[str, tuple[str, ...] | None] = {}
    for item in _split_top_level(value):
        match = _EXPAND_ITEM.match(item)
        name = match.group(1) if match else item.strip()
        canonical = next((nav for nav in target.expandable if nav.lower() == name.lower()), None)
        if match is None or canonical is None:
            raise bad_request(f"Could not find a property named '{name}' on type '{target.type_name}'.")
        nested = match.group(2)
        select: tuple[str, ...] | None = None
        if nested:
            option, _, nested_value = nested.partition("=")
            if option.strip().lower() != "$select":
                raise unsupported_query(f"Query option '{option.strip()}' is not supported inside $expand.")
            select = parse_select(nested_value, target.expandable[canonical])
        expand[canonical] = select
    return expand


def _split_top_level(value: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in value:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def target_for(spec: CollectionSpec, *, with_expand: bool = True) -> QueryTarget:
    # Graph expands one level only, so an expanded target offers no $expand of its own.
    expandable = {}
    for name in spec.expandable if with_expand else ():
        relationship = spec.relationship(name)
        assert relationship is not None, f"{spec.name}: $expand of unknown relationship {name}"
        expandable[name] = target_for(BY_NAME[relationship.target_collections[0]], with_expand=False)
    return QueryTarget(spec.type_name, spec.resource_name, spec.all_properties(), spec.filterable, expandable)


# --- $filter ------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|(\()|(\))|(,)|([A-Za-z_][\w/.]*)|(-?\d+(?:\.\d+)?))")


class FilterParser:
    """The filters Graph supports without advanced query parameters: eq, in, startsWith, and/or, parentheses;
    with them (`advanced`), endsWith too.

    Anything else is refused as Graph refuses it without ConsistencyLevel, rather than evaluated
    differently: a client must never get a plausible wrong answer from the simulator.
    """

    def __init__(self, text: str, target: QueryTarget, *, advanced: bool = False) -> None:
        self.text = text
        self.target = target
        self.advanced = advanced
        self.tokens = self._tokenize(text)
        self.pos = 0

    def _tokenize(self, text: str) -> list[tuple[str, Any]]:
        tokens: list[tuple[str, Any]] = []
        index = 0
        while index < len(text):
            if text[index:].strip() == "":
                break
            match = _TOKEN.match(text, index)
            if not match:
                raise bad_request(f"Invalid filter clause: syntax error at position {index} in '{text}'.")
            string, lparen, rparen, comma, word, number = match.groups()
            if string is not None:
                tokens.append(("lit", string[1:-1].replace("''", "'")))
            elif lparen or rparen or comma:
                tokens.append(("punct", lparen or rparen or comma))
            elif word is not None:
                literal = {"true": True, "false": False, "null": None}
                tokens.append(("lit", literal[word]) if word in literal else ("word", word))
            else:
                tokens.append(("lit", float(number) if "." in number else int(number)))
            index = match.end()
        return tokens

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.pos != len(self.tokens):
            raise self._syntax_error()
        return predicate

    def _peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> tuple[str, Any]:
        token = self._peek()
        if token is None:
            raise self._syntax_error()
        self.pos += 1
        return token

    def _expect(self, kind: str, value: Any = None) -> Any:
        token = self._take()
        if token[0] != kind or (value is not None and str(token[1]).lower() != value):
            raise self._syntax_error()
        return token[1]

    def _syntax_error(self) -> GraphFault:
        return bad_request(f"Invalid filter clause: syntax error in '{self.text}'.")

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token and token[0] == "word" and token[1].lower() == word:
            self.pos += 1
            return True
        return False

    def _or(self) -> Predicate:
        terms = [self._and()]
        while self._keyword("or"):
            terms.append(self._and())
        return terms[0] if len(terms) == 1 else (lambda obj: any(t(obj) for t in terms))

    def _and(self) -> Predicate:
        terms = [self._clause()]
        while self._keyword("and"):
            terms.append(self._clause())
        return terms[0] if len(terms) == 1 else (lambda obj: all(t(obj) for t in terms))

    def _clause(self) -> Predicate:
        token = self._take()
        if token == ("punct", "("):
            inner = self._or()
            self._expect("punct", ")")
            return inner
        if token[0] != "word":
            raise self._syntax_error()
        word = token[1]
        if word.lower() == "startswith" or (word.lower() == "endswith" and self.advanced):
            self._expect("punct", "(")
            prop = self._property(self._expect("word"))
            self._expect("punct", ",")
            part = self._expect("lit")
            self._expect("punct", ")")
            if not isinstance(part, str):
                raise self._syntax_error()
            at_end = word.lower() == "endswith"
            return lambda obj: isinstance(obj.get(prop), str) and (
                obj[prop].lower().endswith(part.lower()) if at_end else obj[prop].lower().startswith(part.lower())
            )
        if word.lower() in ("not", "endswith") or "/" in word:
            raise unsupported_query(
                f"Operator '{word.split('/')[0]}' is not supported because the required parameters might be missing. "
                "Try adding $count=true query parameter and ConsistencyLevel:eventual header."
            )
        prop = self._property(word)
        operator = self._expect("word").lower()
        if operator == "eq":
            wanted = self._expect("lit")
            if prop == "id":
                return IdFilter((wanted,))
            return lambda obj: _equal(obj.get(prop), wanted)
        if operator == "in":
            self._expect("punct", "(")
            values = [self._expect("lit")]
            while self._peek() == ("punct", ","):
                self.pos += 1
                values.append(self._expect("lit"))
            self._expect("punct", ")")
            if prop == "id":
                return IdFilter(tuple(values))
            return lambda obj: any(_equal(obj.get(prop), v) for v in values)
        raise unsupported_query(
            f"Operator '{operator}' is not supported because the required parameters might be missing. "
            "Try adding $count=true query parameter and ConsistencyLevel:eventual header."
        )

    def _property(self, word: str) -> str:
        by_lower = {name.lower(): name for name in self.target.properties}
        canonical = by_lower.get(word.lower())
        if canonical is None:
            raise bad_request(f"Could not find a property named '{word}' on type '{self.target.type_name}'.")
        if canonical not in self.target.filterable:
            raise unsupported_query(
                f"Unsupported or invalid query filter clause specified for property '{canonical}' "
                f"of resource '{self.target.resource_name}'."
            )
        return canonical


def _equal(actual: Any, wanted: Any) -> bool:
    # Directory string comparisons ignore case (displayName eq 'sales team' finds 'Sales Team').
    if isinstance(actual, str) and isinstance(wanted, str):
        return actual.lower() == wanted.lower()
    return bool(actual == wanted)


# --- projection and paging ----------------------------------------------------------------------------------


def project(
    obj: Mapping[str, Any],
    select: Sequence[str] | None,
    default: Sequence[str] | None,
    hidden: Iterable[str] = (),
) -> dict[str, Any]:
    """The object as Graph returns it: $select'ed properties plus id, or the default set; stored order kept.

    `hidden` properties are never returned, not even when $select names them (or, for 'id', implies it).
    """
    if select is not None:
        wanted = {"id", "@odata.type", *select}
    elif default is not None:
        wanted = {"@odata.type", *default}
    else:
        wanted = set(obj)
    never = set(hidden)
    return {key: value for key, value in obj.items() if key in wanted and key not in never}


@dataclass(frozen=True)
class PageRules:
    """The tenant's paging switches at the time of a request (settings.py, graph-behaviour §1 and §10)."""

    now: float = 0.0
    lifetime: float | None = None
    empty_pages: bool = False


@dataclass(frozen=True)
class PageToken:
    position: str  # where the next page starts: the last id served, or a delta round's offset
    issued: float
    # The empty page the empty_pages switch inserts has been served at this position already.
    empty_served: bool = False


def encode_skiptoken(position: str, issued: float, empty_served: bool = False) -> str:
    text = f"sim-v2:{issued:.3f}:{int(empty_served)}:{position}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def expired_page_token() -> GraphFault:
    return GraphFault(
        400,
        "Directory_ExpiredPageToken",
        "The specified page token value has expired and can no longer be included in your request.",
    )


def decode_skiptoken(token: str, rules: PageRules) -> PageToken:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        version, issued, empty, position = text.split(":", 3)
        decoded = PageToken(position, float(issued), empty == "1")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise expired_page_token() from None
    if version != "sim-v2" or (rules.lifetime is not None and rules.now - decoded.issued > rules.lifetime):
        raise expired_page_token()
    return decoded


@dataclass(frozen=True)
class IdFilter:
    """`id eq '…'` or `id in (…)`: Graph looks these up by key, so the simulator does too, rather than
    testing every object of a large tenant."""

    ids: tuple[Any, ...]

    def __call__(self, obj: Mapping[str, Any]) -> bool:
        return any(_equal(obj.get("id"), wanted) for wanted in self.ids)


def paginate(
    items: Sequence[T],
    query: Query,
    page_size: int | None,
    key: Callable[[T], str] = _object_id,
    rules: PageRules = PageRules(),
) -> tuple[list[T], str | None]:
    """One page of items (sorted by key) after the skiptoken, and the token of the next page if any.

    The skiptoken names the last id served rather than an offset, so objects created or deleted between
    two pages neither shift the rest nor get served twice.
    """
    start = 0
    token = decode_skiptoken(query.skiptoken, rules) if query.skiptoken is not None else None
    if token is not None:
        start = bisect.bisect_right(items, token.position, key=key)
        if rules.empty_pages and not token.empty_served and start < len(items):
            # A page may hold nothing and still carry a nextLink (graph-behaviour §1); clients must keep following.
            return [], encode_skiptoken(token.position, rules.now, empty_served=True)
    if page_size is None:
        return list(items[start:]), None
    page = list(items[start : start + page_size])
    has_more = start + page_size < len(items)
    return page, encode_skiptoken(key(page[-1]), rules.now) if has_more and page else None


def page_size_for(query: Query, default_size: int, paged_by_default: bool) -> int | None:
    size = query.top if query.top is not None else (default_size if paged_by_default else None)
    if query.expand and (size is None or size > EXPAND_PAGE_CAP):
        size = EXPAND_PAGE_CAP
    return size


def next_link(base: str, path: str, pairs: list[tuple[str, str]], token: str) -> str:
    """Every original query option, then the new $skiptoken (graph-behaviour §1)."""
    kept = [(k, v) for k, v in pairs if k.lower() != "$skiptoken"] + [("$skiptoken", token)]
    return build_url(base, path, kept)


def build_url(base: str, path: str, pairs: Sequence[tuple[str, str]]) -> str:
    # $, commas, parentheses, '=' and quotes stay readable, as in Graph's own links; spaces and & are escaped.
    query = "&".join(quote(k, safe="$") + "=" + quote(v, safe="$,()='") for k, v in pairs)
    return f"{base}/{path}?{query}"


def context_url(base: str, entity_set: str, select: Sequence[str] | None, entity: bool = False) -> str:
    selected = f"({','.join(select)})" if select else ""
    return f"{base}/$metadata#{entity_set}{selected}{'/$entity' if entity else ''}"

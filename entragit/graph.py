"""A Microsoft Graph client on requests: paging, retries that honour Retry-After, Graph's errors."""

from __future__ import annotations

import contextlib
import json as json_text
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import requests

from entragit.errors import GraphError
from entragit.session import new_session

JSON = dict[str, Any]

# Graph refuses a larger page than this on every directory collection (graph-behaviour §1).
MAX_PAGE_SIZE = 999

# Graph serves two API versions side by side under one root: v1.0, and beta, where Microsoft publishes
# what it may still change (learn.microsoft.com/graph/versioning-and-support). Each request names its own
# (v1.0 unless it says otherwise), so one client reads types of both.
DEFAULT_VERSION = "v1.0"

# The statuses Microsoft's own SDK retry handler retries (graph-behaviour §4).
_RETRY_STATUSES = frozenset({429, 503, 504})
_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})

_MEMBER_NAME = re.compile(r'\s*([{,])\s*("(?:[^"\\]|\\.)*")\s*:\s*')
_DECODER = json_text.JSONDecoder()


def leading_members(text: str) -> JSON | None:
    """The members of a JSON object that come before its "value", read without parsing the value, or
    None when the text is not such an object. Graph writes @odata.context, @odata.count and
    @odata.nextLink first (graph-behaviour §0), so the next page can be asked for before this one is parsed."""
    members: JSON = {}
    position = 0
    while (found := _MEMBER_NAME.match(text, position)) is not None and (found.group(1) == "{") == (position == 0):
        name = json_text.loads(found.group(2))
        if name == "value":
            return members
        members[name], position = _DECODER.raw_decode(text, found.end())
    return None


def _values(page: str | JSON) -> list[JSON]:
    body = json_text.loads(page) if isinstance(page, str) else page
    return list(body.get("value", []))


class RetryPolicy:
    """How long to keep trying: a bounded number of attempts and of seconds spent waiting, so a storm of
    429s ends in a clear error instead of an endless loop."""

    def __init__(self, max_attempts: int = 7, max_total_wait: float = 180.0, base_delay: float = 1.0,
                 max_delay: float = 60.0) -> None:
        self.max_attempts = max_attempts
        self.max_total_wait = max_total_wait
        self.base_delay = base_delay
        self.max_delay = max_delay

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return retry_after
        # Exponential backoff where Graph gave no Retry-After (Conditional Access 429s). Half of it is
        # jitter, so clients do not retry in lockstep; the other half is a floor, because requests made
        # while throttled still count against the quota (graph-behaviour §4).
        ceiling = min(self.max_delay, self.base_delay * 2 ** attempt)
        return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


def _retry_after(response: requests.Response) -> float | None:
    return _retry_after_value(response.headers)


def _retry_after_value(headers: Any) -> float | None:
    # Batch items carry their headers as a plain JSON object, whose key case nobody promises.
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_from_response(method: str, url: str, response: requests.Response) -> GraphError:
    code, message, request_id = "", response.reason or "", response.headers.get("request-id")
    try:
        body = response.json()
        error = body.get("error", {}) if isinstance(body, dict) else {}
        if isinstance(error, dict):
            code = error.get("code", code)
            message = error.get("message", message)
            inner = error.get("innerError") or {}
            request_id = inner.get("request-id", request_id)
    except ValueError:
        pass
    return GraphError(method, url.split("?")[0], response.status_code, code or str(response.status_code), message,
                      request_id)


# Graph's write quota per app and tenant for identity and access objects (graph-behaviour §4).
WRITE_QUOTA = 3000
WRITE_WINDOW_SECONDS = 150.0

# At most 20 requests per $batch (graph-behaviour §3).
BATCH_LIMIT = 20
BATCH_WORKERS = 4


@dataclass(frozen=True)
class BatchItem:
    method: str
    path: str
    params: dict[str, str] | None = None
    body: JSON | None = None
    headers: dict[str, str] | None = None
    after: int | None = None
    """Index, among the items given to the same batch(), of an earlier item this one must follow. Items so
    chained go in a $batch of their own, each naming the one before it in dependsOn: Graph runs an item
    only once the one it names succeeded, answers 424 otherwise (graph-behaviour §3), and refuses a batch that
    is neither wholly sequential nor wholly parallel."""
    version: str = DEFAULT_VERSION
    """The API version the path is relative to; a $batch goes to one version's $batch, so items of
    another version go in another $batch."""

    def relative_url(self) -> str:
        query = f"?{urlencode(self.params, safe='$,()=')}" if self.params else ""
        return f"/{self.path.lstrip('/')}{query}"


@dataclass(frozen=True)
class BatchAnswer:
    status: int
    headers: dict[str, str]
    body: JSON | None

    def error(self, item: BatchItem) -> GraphError:
        error = (self.body or {}).get("error", {}) if isinstance(self.body, dict) else {}
        inner = error.get("innerError") or {}
        return GraphError(item.method, item.path, self.status, error.get("code") or str(self.status),
                          error.get("message") or "", inner.get("request-id") or self.headers.get("request-id"))


def _check_page_size(params: dict[str, str] | None) -> None:
    if params and int(params.get("$top", 1)) > MAX_PAGE_SIZE:
        raise ValueError(f"$top {params['$top']} is over Graph's limit of {MAX_PAGE_SIZE}")


class GraphClient:
    def __init__(
        self,
        graph_url: str,
        token: Callable[[], str],
        *,
        invalidate_token: Callable[[], None] | None = None,
        ca_bundle: str | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.graph_url = graph_url.rstrip("/")
        self._token = token
        self._invalidate_token = invalidate_token
        self._ca_bundle = ca_bundle
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._paces: dict[str, float] = {}
        self._next_slot: dict[str, float] = {}
        self._pace_lock = threading.Lock()
        self._gate = 0.0  # monotonic time before which no request is sent: a throttled answer set it
        # After a throttled answer, requests go one at a time until one succeeds: Graph charges refused
        # requests too (graph-behaviour §4), so a burst of every waiting thread at the gate's opening would spend
        # the refilled budget on refusals again, round after round.
        self._throttled = False
        self._single_file = threading.Lock()
        self._local = threading.local()  # one session per thread: requests.Session is not thread-safe
        self.request_count = 0
        self._count_lock = threading.Lock()
        self.named_scopes: dict[str, tuple[str, ...]] = {}
        """Ids named by settings given outside the repository, by setting: scopes read besides those a type's
        own filter finds (the groups whose PIM settings a snapshot reads besides the role-assignable ones)."""
        self.limit_writes(WRITE_QUOTA, WRITE_WINDOW_SECONDS)

    def access_token(self) -> str:
        """The bearer token the calls carry (signing in first if need be): what it says of the sign-in, its
        tenant and permissions, is checked before anything is read for a restore or written."""
        return self._token()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = new_session(self._ca_bundle)
        return session

    def pace(self, path_prefix: str, requests_per_second: float) -> None:
        """Send requests under path_prefix no faster than this: where Graph documents a per-tenant rate
        (Conditional Access: 1 request/s, and its 429s carry no Retry-After), waiting beforehand is cheaper
        than being throttled."""
        # A tenth of slack: Graph measures when a request arrives, not when it was sent. The rate is the
        # tenant's whatever the version asked, so the lane is the path after the version.
        self._paces[path_prefix.strip("/")] = 1.1 / requests_per_second

    def limit_writes(self, writes: int, seconds: float) -> None:
        """Send no more writes than Graph's quota admits: a bucket of `writes` that refills over `seconds`.
        Graph charges a refused write against the quota too, so a client that sends faster than the quota
        refills is refused ever more often; keeping under it is what makes a large restore fast."""
        with self._pace_lock:
            self._write_capacity = float(writes)
            self._write_rate = writes / seconds
            self._write_level = float(writes)
            self._write_updated = self._monotonic()

    def _reserve_writes(self, count: int) -> None:
        with self._pace_lock:
            now = self._monotonic()
            elapsed = now - self._write_updated
            self._write_level = min(self._write_capacity, self._write_level + elapsed * self._write_rate) - count
            self._write_updated = now
            wait = -self._write_level / self._write_rate
        if wait > 0:
            self._sleep(wait)

    def _spent_writes(self) -> None:
        """Graph refused writes for the quota: whatever this client thought was left is not."""
        with self._pace_lock:
            self._write_level = min(self._write_level, 0.0)

    def paced(self, path: str) -> bool:
        """Whether requests to this path (relative to a version) wait their turn at a per-tenant rate (see pace)."""
        return self._lane(path) is not None

    def _lane(self, path: str) -> str | None:
        """The paced prefix a request falls under, given its path relative to a version or its whole URL."""
        if path.startswith(f"{self.graph_url}/"):  # a whole URL names the version first
            path = path.removeprefix(f"{self.graph_url}/").partition("/")[2]
        relative = path.lstrip("/")
        return next((prefix for prefix in self._paces if relative.startswith(prefix)), None)

    def _wait_for_slot(self, path: str) -> None:
        lane = self._lane(path)
        if lane is None:
            return
        with self._pace_lock:
            now = self._monotonic()
            slot = max(now, self._next_slot.get(lane, now))
            self._next_slot[lane] = slot + self._paces[lane]
        if slot > now:
            self._sleep(slot - now)

    def _back_off(self, delay: float) -> None:
        """Wait, and hold every other thread of this client back as long: the throttling budget is the
        app's, so a thread that went on sending would only spend it and lengthen everyone's wait."""
        with self._pace_lock:
            self._gate = max(self._gate, self._monotonic() + delay)
            self._throttled = True
        self._wait_for_gate()

    def _wait_for_gate(self) -> None:
        with self._pace_lock:
            remaining = self._gate - self._monotonic()
        if remaining > 0:
            self._sleep(remaining)

    def url(self, path: str, version: str = DEFAULT_VERSION) -> str:
        """The URL of a path relative to a version; a link Graph gave (nextLink, deltaLink) is whole already."""
        return path if path.startswith("https://") else f"{self.graph_url}/{version}/{path.lstrip('/')}"

    def ref_url(self, collection: str, object_id: str) -> str:
        """The "@odata.id" value that names an object in a $ref write."""
        return f"{self.url(collection)}/{quote(object_id)}"

    def request(self, method: str, path: str, *, params: dict[str, str] | None = None,
                json: JSON | None = None, headers: dict[str, str] | None = None,
                version: str = DEFAULT_VERSION) -> JSON | None:
        """One Graph call, retried as Graph asks; the parsed body, or None for 204."""
        response = self._answer(method, path, params=params, json=json, headers=headers, version=version)
        return None if response is None else response.json()

    def _answer(self, method: str, path: str, *, params: dict[str, str] | None = None,
                json: JSON | None = None, headers: dict[str, str] | None = None,
                version: str = DEFAULT_VERSION) -> requests.Response | None:
        """request(), with the answer's body left unparsed."""
        url = self.url(path, version)
        waited, refreshed = 0.0, False
        failure: Exception | None = None
        for attempt in range(self._retry.max_attempts):
            send_headers = {"Authorization": f"Bearer {self._token()}", **(headers or {})}
            try:
                response = self._send(method, url, params, json, send_headers)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                # A connection reset or a body cut short: the request may not have been seen; send it again.
                failure = exc
                delay = self._retry.delay(attempt, None, self._rng)
            except OSError as exc:  # e.g. a CA bundle that is not there: retrying cannot help
                raise GraphError(method, url.split("?")[0], 0, "ConnectionFailed", str(exc)) from None
            else:
                if response.status_code == 401 and not refreshed and self._invalidate_token is not None:
                    # A token can expire between msal's cache check and Graph's; ask for a new one once.
                    refreshed = True
                    self._invalidate_token()
                    continue
                if response.status_code not in _RETRY_STATUSES:
                    self._throttled = False
                    if response.status_code >= 400:
                        raise error_from_response(method, url, response)
                    if response.status_code == 204 or not response.content:
                        return None
                    return response
                failure = error_from_response(method, url, response)
                delay = self._retry.delay(attempt, _retry_after(response), self._rng)
            if attempt + 1 == self._retry.max_attempts or waited + delay > self._retry.max_total_wait:
                break
            waited += delay
            self._back_off(delay)
        if isinstance(failure, GraphError):
            raise failure
        raise GraphError(method, url.split("?")[0], 0, "ConnectionFailed",
                         f"no answer after {self._retry.max_attempts} attempts: {failure}")

    def _send(self, method: str, url: str, params: dict[str, str] | None, json: JSON | None,
              headers: dict[str, str]) -> requests.Response:
        with self._single_file if self._throttled else contextlib.nullcontext():
            self._wait_for_gate()
            self._wait_for_slot(url)
            with self._count_lock:
                self.request_count += 1
            return self._session().request(method, url, params=params, json=json, headers=headers,
                                           timeout=(10, 120))

    def get(self, path: str, params: dict[str, str] | None = None, version: str = DEFAULT_VERSION) -> JSON:
        return self.request("GET", path, params=params, version=version) or {}

    def content(self, path: str, version: str = DEFAULT_VERSION) -> bytes | None:
        """The bytes Graph serves at path (an image), or None where it has none (404, or an empty answer)."""
        try:
            answer = self._answer("GET", path, version=version)
        except GraphError as error:
            if error.not_found:
                return None
            raise
        return answer.content if answer is not None else None

    def _chain(self, path: str, params: dict[str, str] | None = None,
               headers: dict[str, str] | None = None, version: str = DEFAULT_VERSION) -> Iterator[str | JSON]:
        """Each page of a collection as read, following @odata.nextLink until Graph stops giving one: as
        text where its nextLink was read without parsing the page, else parsed.

        The nextLink repeats every query option, so params go on the first call only; headers do not
        carry over, so they go on every call (ConsistencyLevel, graph-behaviour §1). The version is the first
        call's: the nextLink names its own.
        """
        _check_page_size(params)
        url: str | None = path
        first = True
        while url:
            answer = self._answer("GET", url, params=params if first else None, headers=headers, version=version)
            first = False
            page: str | JSON = answer.content.decode("utf-8") if answer is not None else {}
            leading = leading_members(page) if isinstance(page, str) else page
            if leading is None or "@odata.nextLink" not in leading:
                # The last page, or members in another order: the link is known once all is read.
                page = leading = json_text.loads(page) if isinstance(page, str) else page
            yield page
            url = leading.get("@odata.nextLink")

    def iter_pages(self, path: str, params: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None, version: str = DEFAULT_VERSION) -> Iterator[list[JSON]]:
        """Each page of a collection (see _chain)."""
        for page in self._chain(path, params, headers, version):
            yield _values(page)

    def iter_pages_ahead(self, path: str, params: dict[str, str] | None = None,
                         version: str = DEFAULT_VERSION) -> Iterator[list[JSON]]:
        """iter_pages, with the requests made on a thread of their own: the next page is asked for as soon
        as the current one's nextLink is known, before the page is parsed, and not once the caller has
        done with it. A large collection is one long chain of round trips, and any work on a page done
        between them would lengthen every link of it."""
        _check_page_size(params)
        pages: queue.SimpleQueue[tuple[str | JSON | None, BaseException | None]] = queue.SimpleQueue()
        abandoned = threading.Event()

        def read() -> None:
            try:
                for page in self._chain(path, params, version=version):
                    pages.put((page, None))
                    if abandoned.is_set():
                        return
                pages.put((None, None))
            except BaseException as error:  # handed to the caller's thread, which raises it
                pages.put((None, error))

        threading.Thread(target=read, name=f"pages of {path}", daemon=True).start()
        try:
            while True:
                page, error = pages.get()
                if error is not None:
                    raise error
                if page is None:
                    return
                yield _values(page)
        finally:
            abandoned.set()

    def iter_collection(self, path: str, params: dict[str, str] | None = None,
                        headers: dict[str, str] | None = None, version: str = DEFAULT_VERSION) -> Iterator[JSON]:
        for page in self.iter_pages(path, params, headers, version):
            yield from page


    def batch(self, items: list[BatchItem]) -> list[BatchAnswer]:
        """Answers to independent requests, sent 20 to a $batch, in the order of the items.

        An outer 200 says nothing about the items (graph-behaviour §3): items answered 429, 503 or 504 are sent
        again, alone, after the longest Retry-After among them, within the same bounded budget as single
        calls. Other failures come back as answers; BatchAnswer.error() turns one into a GraphError.
        """
        answers: dict[int, BatchAnswer] = {}
        pending = list(range(len(items)))
        waited = 0.0
        for attempt in range(self._retry.max_attempts):
            # A few batches in flight hide the round trips; more would only spend the throttling budget
            # faster than it refills.
            with ThreadPoolExecutor(BATCH_WORKERS) as pool:
                for task_answers in pool.map(lambda task: self._send_in_turn(items, task), self._tasks(items, pending)):
                    answers.update(task_answers)
            retry_set: set[int] = set()
            for chain in self._chains(items, pending):
                for i in chain:  # a 424 after a throttled item of its chain goes again with it
                    if answers[i].status in _RETRY_STATUSES or (answers[i].status == 424 and retry_set & set(chain)):
                        retry_set.add(i)
            retry = [i for i in pending if i in retry_set]
            if not retry:
                break
            if any(answers[i].status == 429 and items[i].method in _WRITE_METHODS for i in retry):
                self._spent_writes()
            hints = [_retry_after_value(answers[i].headers) for i in retry]
            known = [h for h in hints if h is not None]
            delay = max(known) if known else self._retry.delay(attempt, None, self._rng)
            if attempt + 1 == self._retry.max_attempts or waited + delay > self._retry.max_total_wait:
                break
            waited += delay
            self._back_off(delay)
            pending = retry
        return [answers[i] for i in range(len(items))]

    @staticmethod
    def _chains(items: list[BatchItem], pending: list[int]) -> list[list[int]]:
        """The pending items grouped by `after` (a lone item is a chain of one), each in request order."""
        waiting = set(pending)
        chains: dict[int, list[int]] = {}
        head_of: dict[int, int] = {}
        for i in pending:  # ascending: an item comes after the one it follows
            lead = items[i].after
            head = head_of[lead] if lead is not None and lead in waiting else i
            head_of[i] = head
            chains.setdefault(head, []).append(i)
        return list(chains.values())

    def _tasks(self, items: list[BatchItem], pending: list[int]) -> list[list[list[int]]]:
        """The pending items as tasks, each a list of $batch requests sent one after another.

        A chain is a $batch of its own. Items under a paced path (Conditional Access: 1 request/s per
        tenant) go one to a batch, each in its own slot: Graph counts every item, so twenty in one batch
        would be nineteen refusals; a chain of them is one task whose batches go in turn. A $batch holds
        items of one version (its items' URLs are relative to the version of its own URL), so the others
        are chunked by version."""
        tasks: list[list[list[int]]] = []
        chunks: dict[str, list[int]] = {}
        for chain in self._chains(items, pending):
            if len(chain) > BATCH_LIMIT:
                raise ValueError(f"{len(chain)} requests chained by dependsOn: a $batch holds {BATCH_LIMIT}")
            versions = {items[i].version for i in chain}
            if len(versions) > 1:
                raise ValueError("requests chained by dependsOn go to one $batch, "
                                 f"not to {' and '.join(sorted(versions))}")
            if any(self._lane(items[i].path) for i in chain):
                tasks.append([[i] for i in chain])
            elif len(chain) > 1:
                tasks.append([chain])
            else:
                chunk = chunks.setdefault(items[chain[0]].version, [])
                if len(chunk) == BATCH_LIMIT:
                    tasks.append([chunk])
                    chunk = chunks[items[chain[0]].version] = []
                chunk += chain
        tasks += [[chunk] for chunk in chunks.values() if chunk]
        return tasks

    def _send_in_turn(self, items: list[BatchItem], task: list[list[int]]) -> dict[int, BatchAnswer]:
        answers: dict[int, BatchAnswer] = {}
        for indexes in task:
            failed = next((i for i, answer in answers.items() if answer.status >= 400), None)
            if failed is not None:
                # What Graph answers an item of a sequential batch once one before it failed.
                body = {"error": {"code": "FailedDependency", "message": f"request {failed} before it failed"}}
                answers.update({i: BatchAnswer(424, {}, body) for i in indexes})
                continue
            answers.update(self._send_batch(items, indexes))
        return answers

    def _send_batch(self, items: list[BatchItem], indexes: list[int]) -> dict[int, BatchAnswer]:
        requests_: list[JSON] = []
        for index in indexes:
            item = items[index]
            entry: JSON = {"id": str(index), "method": item.method, "url": item.relative_url()}
            if item.after is not None and item.after in indexes:
                # Wholly sequential: a batch that also held independent items would be refused.
                entry["dependsOn"] = [str(requests_[-1]["id"])]
            headers = dict(item.headers or {})
            if item.body is not None:
                entry["body"] = item.body
                headers.setdefault("Content-Type", "application/json")  # required with a body (graph-behaviour §3)
            if headers:
                entry["headers"] = headers
            requests_.append(entry)
        for index in indexes:
            self._wait_for_slot(items[index].path)
        self._reserve_writes(sum(1 for entry in requests_ if entry["method"] in _WRITE_METHODS))
        version = items[indexes[0]].version
        body = self.request("POST", "$batch", json={"requests": requests_}, version=version) or {}
        answers = {}
        for response in body.get("responses", []):
            answers[int(response["id"])] = BatchAnswer(int(response["status"]),
                                                       {k: str(v) for k, v in (response.get("headers") or {}).items()},
                                                       response.get("body"))
        missing = [i for i in indexes if i not in answers]
        if missing:
            raise GraphError("POST", self.url("$batch", version), 200, "IncompleteBatch",
                             f"the batch answered {len(answers)} of {len(indexes)} requests")
        return answers

    def get_many(self, items: list[BatchItem]) -> list[JSON | GraphError]:
        """Bodies of many GETs (or the GraphError of each one that failed), batched."""
        results: list[JSON | GraphError] = []
        for item, answer in zip(items, self.batch(items)):
            results.append(answer.body or {} if answer.status < 400 else answer.error(item))
        return results

    def collect_many(self, items: list[BatchItem]) -> list[list[JSON]]:
        """Every item of many collections (first pages batched, later pages followed one by one)."""
        results: list[list[JSON]] = []
        for item, answer in zip(items, self.batch(items)):
            if answer.status >= 400:
                raise answer.error(item)
            body = answer.body or {}
            values = list(body.get("value", []))
            next_link = body.get("@odata.nextLink")
            if next_link:
                values.extend(self.iter_collection(next_link))
            results.append(values)
        return results

"""A short card in Teams or Slack when a snapshot finds a high-risk change (a Conditional Access policy
switched off, a privileged role granted, a new app credential: the risk table's high rules).

Off unless the pipeline gives an incoming webhook's address in the environment, from a pipeline secret:
ENTRAGIT_TEAMS_WEBHOOK (a Teams workflow's "when a webhook request is received" address, which takes an
Adaptive Card) or ENTRAGIT_SLACK_WEBHOOK (a Slack incoming webhook). Never from the repository: whoever can
change a file there must not be able to send the tenant's risks elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from entragit.ci.platforms import CiError
from entragit.report.model import DiffReport, RiskFlag
from entragit.risk import risk_text
from entragit.session import new_session

WEBHOOKS = {"teams": "ENTRAGIT_TEAMS_WEBHOOK", "slack": "ENTRAGIT_SLACK_WEBHOOK"}
# A card is read at a glance: the rest is one click away.
_LINES = 10


def _lines(high: list[RiskFlag]) -> list[str]:
    shown = [risk_text(risk) for risk in high[:_LINES]]
    return shown + ([f"… and {len(high) - _LINES} more"] if len(high) > _LINES else [])


def teams_card(title: str, lines: list[str], link: str) -> dict[str, Any]:
    """The message a Teams workflow posts: one Adaptive Card (plain text blocks: no Markdown from a name)."""
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium",
                                   "wrap": True}]
    body += [{"type": "TextBlock", "text": line, "wrap": True, "spacing": "Small"} for line in lines]
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
        "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                    "version": "1.4", "body": body,
                    "actions": [{"type": "Action.OpenUrl", "title": "Open the report", "url": link}]}}]}


def _slack_text(text: str) -> str:
    # Slack reads &, < and > as markup (links, mentions); a display name must stay text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(title: str, lines: list[str], link: str) -> dict[str, Any]:
    text = "\n".join([f"*{_slack_text(title)}*"] + [f"• {_slack_text(line)}" for line in lines]
                     + [f"<{link}|Open the report>"])
    return {"text": text}


_MESSAGES = {"teams": teams_card, "slack": slack_message}


def _configured(value: str | None) -> bool:
    # Azure Pipelines leaves $(NAME) as it is when no variable NAME is defined: that is "not configured".
    return bool(value) and not (value or "").startswith("$(")


def send_alerts(report: DiffReport, env: Mapping[str, str], link: str) -> list[str]:
    """Post the card to each configured webhook when the report has a high-risk change; what was sent."""
    high = [risk for risk in report.risks if risk.severity == "high"]
    sent: list[str] = []
    if not high:
        return sent
    title = f"entragit: {len(high)} high-risk change(s) in the tenant"
    for kind, variable in WEBHOOKS.items():
        url = env.get(variable)
        if not _configured(url):
            continue
        assert url is not None
        if urlsplit(url).scheme != "https":
            raise CiError(f"{variable} must be an https address (the tenant's risks travel to it)")
        try:
            answer = new_session().post(url, json=_MESSAGES[kind](title, _lines(high), link), timeout=30)
        except requests.RequestException as exc:
            raise CiError(f"the {kind} alert could not be sent ({variable}): {type(exc).__name__}") from None
        if answer.status_code >= 300:
            raise CiError(f"the {kind} alert was refused ({variable}): HTTP {answer.status_code}")
        sent.append(f"Alerted {kind}: {len(high)} high-risk change(s).")
    return sent

from __future__ import annotations

import re
from pathlib import Path

import pytest

from entragit.config import Config, load_config
from entragit.errors import ConfigError


@pytest.mark.parametrize(("cloud", "graph", "login"), [
    ("global", "https://graph.microsoft.com", "https://login.microsoftonline.com"),
    ("usgov", "https://graph.microsoft.us", "https://login.microsoftonline.us"),
    ("usgovdod", "https://dod-graph.microsoft.us", "https://login.microsoftonline.us"),
    ("china", "https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
])
def test_a_national_cloud_picks_graph_sign_in_and_scope_together(cloud: str, graph: str, login: str) -> None:
    connection = Config(tenant_id="t-1", client_id="c-1", cloud=cloud).connection()
    assert (connection.graph_url, connection.authority, connection.scope) == (graph, f"{login}/t-1", f"{graph}/.default")


def test_hosts_given_in_the_environment_override_the_clouds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "entragit.yaml").write_text("tenant_id: t-1\nclient_id: c-1\ncloud: usgov\n")
    monkeypatch.setenv("ENTRAGIT_GRAPH_URL", "https://graph.example/")
    monkeypatch.setenv("ENTRAGIT_AUTHORITY_HOST", "https://login.example")
    connection = load_config(tmp_path).connection()
    assert (connection.graph_url, connection.authority, connection.scope) == (
        "https://graph.example", "https://login.example/t-1", "https://graph.example/.default")


@pytest.mark.parametrize(("key", "override"), [
    ("graph_url", "ENTRAGIT_GRAPH_URL or `git config entragit.graphUrl VALUE`"),
    ("authority_host", "ENTRAGIT_AUTHORITY_HOST or `git config entragit.authorityHost VALUE`"),
    ("simulator", "ENTRAGIT_SIMULATOR or `git config entragit.simulator VALUE`"),
])
def test_a_host_in_the_config_file_is_refused_with_where_it_goes_now(tmp_path: Path, key: str, override: str) -> None:
    (tmp_path / "entragit.yaml").write_text(f"tenant_id: t\nclient_id: c\n{key}: https://elsewhere.example\n")
    with pytest.raises(ConfigError, match=re.escape(f"{key} is no longer read from the repository")) as caught:
        load_config(tmp_path)
    assert override in str(caught.value)


@pytest.mark.parametrize(("text", "problem"), [
    ("tenant_id: t\n", "missing client_id"),
    ("tenant_id: t\nclient_id: c\ncolour: blue\n", "unknown setting(s) colour"),
    ("tenant_id: [t\n", "entragit.yaml:2: not valid YAML"),
    ("tenant_id: t\nclient_id: \udcff\n", "entragit.yaml: not valid YAML"),
    ("x: &a [1, 1]\ny: [*a, *a]\ntenant_id: t\nclient_id: c\n", "anchors and aliases are refused"),
])
def test_a_bad_config_file_is_named_with_its_problem(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "entragit.yaml").write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(ConfigError, match=re.escape(problem)) as caught:
        load_config(tmp_path)
    assert "\n" not in str(caught.value)


def test_an_unknown_auth_kind_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown auth 'password'"):
        Config(tenant_id="t", client_id="c", auth="password").connection()

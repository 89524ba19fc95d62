"""The pipeline files `entragit init --ci` writes into a backup repository.

They ship inside the package (entragit/templates/<platform>/), so the files a repository gets are those
of the entragit release that wrote them, which the files themselves pin (ENTRAGIT_VERSION).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

# Template -> where it goes in the backup repository, per platform.
PIPELINES: dict[str, dict[str, str]] = {
    "github": {"entragit-snapshot.yml": ".github/workflows/entragit-snapshot.yml",
               "entragit-restore.yml": ".github/workflows/entragit-restore.yml"},
    "azure-devops": {"entragit-snapshot.yml": ".azure-pipelines/entragit-snapshot.yml",
                     "entragit-restore.yml": ".azure-pipelines/entragit-restore.yml"},
}


def template_text(platform: str, name: str) -> str:
    return resources.files("entragit").joinpath("templates", platform, name).read_text(encoding="utf-8")


def write_pipelines(root: Path, platform: str) -> list[str]:
    """Write the platform's pipelines under root, never over a file that says something else: one line per
    file saying what became of it."""
    said = []
    for name, target in PIPELINES[platform].items():
        path = root / target
        text = template_text(platform, name)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            said.append(f"wrote {target}")
        elif path.read_text(encoding="utf-8", errors="replace") == text:
            said.append(f"kept {target}: already the template")
        else:
            said.append(f"kept {target}: it differs from this entragit's template, and stays as it is (move it "
                        "away and run this again to take the template)")
    return said

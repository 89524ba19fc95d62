"""`entragit-textconv FILE` (or `python -m entragit.textconv FILE`): the diff driver `entragit init` sets up.

Git starts it once per file it shows, so it loads neither the command line (click) nor, once HEAD's name
index is cached, the registry and the YAML reader: the index is built (textconv.index) only when HEAD moved.
"""

from __future__ import annotations

import sys
from pathlib import Path

from entragit.textconv import textconv


def _build_index(root: Path) -> dict[str, str]:
    from entragit.textconv.index import build_index

    return build_index(root)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        sys.stderr.write("usage: entragit-textconv FILE\n"
                         "Prints a snapshot file with display names beside ids: the git diff driver "
                         "`entragit init` sets up.\n")
        sys.exit(2)
    try:
        text = textconv(Path(args[0]), Path.cwd(), _build_index)
    except OSError as error:
        sys.stderr.write(f"error: cannot read {args[0]}: {error.strerror}\n")
        sys.exit(1)
    sys.stdout.buffer.write(text.encode("utf-8", errors="replace"))


if __name__ == "__main__":
    main()

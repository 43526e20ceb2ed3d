"""mkdocs hooks for the documentation site (mkdocs.yml).

The README is the site's home page. It is written for the repository, where it links to
`docs/X.md` and to files elsewhere in the tree: on the site, `docs/X.md` becomes `X.md`, and
any other file of the repository (a licence, an example) becomes a link to it in the
repository, as do the `../` links of the pages in docs/.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent
# The repository's address, as configured in mkdocs.yml (repo_url).
BLOB = "{repo_url}/blob/main/"
LINK = re.compile(r"\]\((?!https?://|#|mailto:)([^)\s]+)\)")


def _readme_for_site(text: str, blob: str) -> str:
    def fix(match: re.Match) -> str:
        target = match.group(1)
        if target.startswith("docs/"):
            return f"]({target[len('docs/'):]})"
        return f"]({blob}{target})"

    return LINK.sub(fix, text)


def _page_for_site(text: str, blob: str) -> str:
    return re.sub(r"\]\(\.\./([^)\s]+)\)", lambda m: f"]({blob}{m.group(1)})", text)


def on_files(files, config):
    blob = BLOB.format(repo_url=config["repo_url"].rstrip("/"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    files.append(File.generated(config, "index.md", content=_readme_for_site(readme, blob)))
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri == "index.md":
        return markdown
    return _page_for_site(markdown, BLOB.format(repo_url=config["repo_url"].rstrip("/")))

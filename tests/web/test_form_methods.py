"""Every form of every page is sent by POST: none may put what it holds in a URL.

The pages' scripts send their forms themselves; when a script is missing (a failed load, a page
opened while the assets are rebuilt) the browser submits the form on its own, and a form
without ``method`` goes by GET: the staff sign-in then put the password in the address bar, the
history and the server's logs. A POST to a page's URL is refused (405) and carries nothing
into a URL.
"""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "tocsin" / "web" / "templates"
FORM = re.compile(r"<form\b[^>]*>", re.IGNORECASE)
POST = re.compile(r"""\bmethod\s*=\s*["']?post\b""", re.IGNORECASE)


def test_every_form_is_sent_by_post() -> None:
    forms = [(path.name, tag) for path in sorted(TEMPLATES.rglob("*.html"))
             for tag in FORM.findall(path.read_text(encoding="utf-8"))]
    assert len(forms) > 20  # the templates were found
    by_get = [f"{name}: {tag}" for name, tag in forms if not POST.search(tag)]
    assert by_get == []

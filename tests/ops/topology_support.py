"""Driving the process topology of scripts/topology.py over HTTP, as browsers would:
forms read from the pages (CSRF tokens, signature fingerprints, defaults), posted back, and
every request sent to the next web process in turn, as Caddy's round robin does.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "topology.py"


def load_topology_module():
    name = "studiocrm_topology_script"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class Forms(HTMLParser):
    """Every <form> of a page: its action and the values a browser would send as they are."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[dict] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            action = urljoin(self.page_url, attributes.get("action") or self.page_url)
            self.forms.append({"action": action, "fields": {}, "options": {}})
            return
        if tag == "option" and self._select and self.forms:
            # The selected option (or the first) is what the select sends.
            form = self.forms[-1]
            form["options"][self._select].append(attributes.get("value", ""))
            if "selected" in attributes or self._select not in form["fields"]:
                form["fields"][self._select] = [attributes.get("value", "")]
            return
        if not self.forms or "name" not in attributes:
            return
        fields = self.forms[-1]["fields"]
        name = attributes["name"]
        if tag == "input":
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    fields.setdefault(name, []).append(attributes.get("value", "on"))
            elif kind not in ("submit", "button", "file"):
                fields[name] = [attributes.get("value", "")]
        elif tag == "select":
            self._select = name
            self.forms[-1]["options"][name] = []
        elif tag == "textarea":
            self._textarea = name
            fields[name] = [""]

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1]["fields"][self._textarea][0] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_startendtag(self, tag, attrs) -> None:
        self.handle_starttag(tag, attrs)


def forms_of(response: requests.Response) -> list[dict]:
    parser = Forms(response.url)
    parser.feed(response.text)
    return parser.forms


class Visitor:
    """One person's browser (its own cookies) talking to the web processes in turn."""

    def __init__(self, web_urls: list[str], name: str) -> None:
        self.web_urls = web_urls
        self.name = name
        self.session = requests.Session()
        self.turn = 0
        self.served_by: list[str] = []

    def url(self, path_or_url: str) -> str:
        """The same path on the next web process (Caddy's round robin)."""
        parts = urlsplit(path_or_url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        base = self.web_urls[self.turn % len(self.web_urls)]
        self.turn += 1
        self.served_by.append(base)
        return base + path

    def get(self, path: str, expect: int = 200, **kwargs) -> requests.Response:
        response = self.session.get(self.url(path), timeout=60, **kwargs)
        assert response.status_code == expect, (self.name, path, response.status_code)
        return response

    def post(self, path: str, data, expect: int = 200, **kwargs) -> requests.Response:
        response = self.session.post(self.url(path), data=data, timeout=60, **kwargs)
        assert response.status_code == expect, (
            self.name,
            path,
            response.status_code,
            response.text[:2000],
        )
        return response

    def submit(
        self, page: requests.Response, action: str, changes: dict | None = None, **kwargs
    ) -> requests.Response:
        """Send the page's form whose action contains ``action`` with ``changes`` applied
        (a value of None removes the field), from the next web process."""
        matching = [form for form in forms_of(page) if action in form["action"]]
        assert matching, f"no form posting to {action} on {page.url}"
        fields = dict(matching[0]["fields"])
        for name, value in (changes or {}).items():
            if value is None:
                fields.pop(name, None)
            else:
                fields[name] = value if isinstance(value, list) else [value]
        data = [(name, value) for name, values in fields.items() for value in values]
        return self.post(matching[0]["action"], data, **kwargs)


def wait_for(condition, *, timeout: float = 60, step: float = 0.3, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what or condition}")


def links(message, base_url: str, path: str) -> list[str]:
    """The links under base_url + path in a received email's text part, in order."""
    part = message.get_body(preferencelist=("plain",))
    text = part.get_content() if part else ""
    found = re.findall(re.escape(base_url + path) + r"[^\s<>\"']*", text)
    return list(dict.fromkeys(found))

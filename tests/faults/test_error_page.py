"""The page a request gets when the app fails (say, the database went away mid-request, as
in test_postgres_restarted): rendered without the database or a request context, in the
visitor's language, saying to try again — not Django's bare "Server Error (500)"."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.utils import translation


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "Please try again in a minute."), ("ru", "Попробуйте ещё раз через минуту.")],
)
def test_the_error_page_asks_to_try_again_in_the_visitors_language(language, text):
    with translation.override(language):
        html = render_to_string("500.html")
    assert text in html
    assert f'lang="{language}"' in html

"""Redaction of text: what is masked, and that a long text costs in proportion to its size."""

from __future__ import annotations

import pytest

from dcaf_cli.session.redact import MASK, redact_message, redact_text

MB = 1_000_000


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("password=hunter2", f"password={MASK}"),
        ("1password=hunter2", f"1password={MASK}"),  # the name starts at its first letter
        ("x-token: abc", f"x-token: {MASK}"),
        ("my password is hunter2", f"my password is {MASK}"),
        ("postgres://u:pw@db/x", f"postgres://u:{MASK}@db/x"),
        ("see a.b.postgres://u:pw@db/x", f"see a.b.postgres://u:{MASK}@db/x"),
        ("colour=blue éclair=1", "colour=blue éclair=1"),
        ("/remember password hunter2", f"/remember password {MASK}"),
        ("1:password=hunter2", f"1:password={MASK}"),  # `1` is no name to take the rest
        ("12:30:password:hunter2", f"12:30:password:{MASK}"),
        ("ß:api_key=k3y", f"ß:api_key={MASK}"),
        ("Authorization: Bearer abc.def-123456", f"Authorization: Bearer {MASK}"),
        ('-H "authorization: bearer eyJhbGciOi0"', f'-H "authorization: bearer {MASK}"'),
        ("Authorization: Basic dXNlcjpwYXNz", f"Authorization: Basic {MASK}"),
        ("Bearer tokens carry Basic information", "Bearer tokens carry Basic information"),
    ],
)
def test_named_values_and_url_passwords_are_masked(text: str, shown: str) -> None:
    assert redact_text(text) == shown


@pytest.mark.parametrize(
    "filler",
    [
        "w" * MB,  # one long word: every letter was tried as the start of a name
        "a." * (MB // 2),  # a long dotted word: every part was tried as a URL scheme
        "a1" * (MB // 2),
        "1a" * (MB // 2),  # the first letter of a word is looked for once, not at each
        "1" * MB,
        "Bearer " * (MB // 7),  # each scheme word looks ahead over the next word only
    ],
)
def test_a_megabyte_of_text_is_masked_in_one_pass(filler: str) -> None:
    # Each of these took minutes to hours before (quadratic); the suite's hang timeout
    # catches a return of that, while the assertions check the masking around it.
    text = f"/remember note {filler} password=hunter2 postgres://u:pw@db/x Bearer t0ken123"
    shown = redact_text(text)
    assert shown.endswith(f" password={MASK} postgres://u:{MASK}@db/x Bearer {MASK}")
    assert "hunter2" not in shown


def test_an_error_line_masks_the_token_of_an_authorization_header() -> None:
    line = "401 from https://api.example.com: header Authorization: Bearer sk-live_abc123xyz"
    assert redact_message(line).endswith(f"Authorization: Bearer {MASK}")

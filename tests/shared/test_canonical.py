"""Issue 9 item 13: one id, one spelling; log lines no input can forge or repaint."""

from __future__ import annotations

import logging
import uuid

import pytest

from shared.function import parse_uuid
from shared.logs import SafeTextFormatter

ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize(
    "spelling",
    [ID.replace("-", ""), "{" + ID + "}", "urn:uuid:" + ID, " " + ID, ID + "\n"],
)
def test_only_the_hyphenated_form_is_a_uuid(spelling: str) -> None:
    assert uuid.UUID(spelling.strip()) == uuid.UUID(ID), "Python itself would take it"
    with pytest.raises(ValueError):
        parse_uuid(spelling)


def test_case_does_not_make_another_id() -> None:
    assert parse_uuid(ID.upper()) == parse_uuid(ID)


def test_text_logs_escape_control_and_bidi_characters() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "path %s", ("a\x1b[2J\x00\r\u202eb",), None
    )
    line = SafeTextFormatter("%(message)s").format(record)
    assert line == "path a\\x1b[2J\\x00\\r\\u202eb", line

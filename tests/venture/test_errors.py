"""A service's refusal shown to people: venture.errors.error_text / flash_error, the one helper the views share."""

from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from venture.errors import error_text, flash_error


def test_error_text_joins_every_message_of_a_validation_error():
    assert error_text(ValidationError("Not now.")) == "Not now."
    assert error_text(ValidationError(["First.", "Second."])) == "First. Second."
    assert error_text(ValidationError({"amount": ["Too much."], "date": ["Too late."]})) == "Too much. Too late."


def test_error_text_of_another_exception_is_its_text():
    assert error_text(ValueError("'sideways' is not a valid Stage")) == "'sideways' is not a valid Stage"


def test_flash_error_puts_the_text_in_one_error_message():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    flash_error(request, ValidationError(["First.", "Second."]))
    assert [(m.level_tag, m.message) for m in get_messages(request)] == [("error", "First. Second.")]

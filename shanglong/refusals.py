"""One family of refusals: what an action says when it cannot be done as asked.

Every action of every app raises one of three kinds (or a subclass with its own message):

| kind            | status | when                                                                   |
|-----------------|--------|------------------------------------------------------------------------|
| `ActionRefused` | 400    | the request cannot be done (an item not on this patrol, too many photos) |
| `NotAllowed`    | 403    | this person may not do it (not on duty in the grid, not their subject)  |
| `Conflict`      | 409    | the record is not as the person saw it (already ended, changed meanwhile) |

They are mapped once for the API (`shanglong.api_auth.api_exception_handler`: the status and
`{"detail": message, "code": code}`, plus `{field: [message]}` when the refusal names a field) and
once for pages: a form view calls `refuse_form(form, refusal)` and renders the form again with
`refusal.status_code` (what was typed is kept); any other page view simply lets the refusal rise,
and `RefusalMiddleware` shows the message on the page the person came from (or on a refusal page).

A subclass sets `message` (and `code`); `raise NotYourGrid` uses it, `raise NotYourGrid(text)`
replaces it, `field=` names the form or API field it concerns.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _


class Refusal(Exception):
    """The base of the family; raise one of its three kinds, not this."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "refused"
    message: ClassVar[str | Promise] = _("This cannot be done as asked; nothing was changed.")
    field: str | None = None

    def __init__(self, message: str | Promise | None = None, *, field: str | None = None) -> None:
        if message is not None:
            self.message = message  # type: ignore[misc]  # an instance may say more than its class
        if field is not None:
            self.field = field
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message)


class ActionRefused(Refusal):
    """400: the request cannot be done as asked."""

    status_code = 400
    code = "refused"


class NotAllowed(Refusal):
    """403: this person may not do this."""

    status_code = 403
    code = "not_allowed"
    message = _("You may not do this; nothing was changed.")


class Conflict(Refusal):
    """409: the record changed since the person read it, or is already in the state asked for."""

    status_code = 409
    code = "conflict"
    message = _("Someone else changed this record meanwhile; nothing was changed. Look at it again and retry.")


def refuse_form(form: Form, refusal: Refusal) -> int:
    """Show a refusal on a form (on its field when the form has it, else at the top) and
    return the status to render the form again with; what was typed stays in the form."""
    field = refusal.field if refusal.field in form.fields else None
    form.add_error(field, str(refusal))
    return refusal.status_code


def _back_url(request: HttpRequest) -> str | None:
    for candidate in (request.POST.get("next"), request.GET.get("next"), request.META.get("HTTP_REFERER")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return None


def refusal_response(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    """A page's answer to a refusal outside a form: after a POST, back to the page the person
    came from with the message on it; otherwise the refusal page, with the refusal's status."""
    back = _back_url(request) if request.method == "POST" else None
    if back is not None:
        messages.error(request, str(refusal))
        return redirect(back)
    return render(request, "refused.html", {"refusal": refusal}, status=refusal.status_code)


class RefusalMiddleware:
    """Pages: a Refusal a view let rise becomes `refusal_response`. (The API maps its own.)"""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Refusal):
            return refusal_response(request, exception)
        return None

"""The double-submit guard of the create forms: a one-time form token.

Every page that shows a form carries a hidden token (`includes/form_token.html`, rendered by
`includes/form.html`; the value comes from the `form_token` context processor, and
`static/js/form_token.js` keeps it with the history entry, so a page that Back fetches anew
sends the token it was first given). A create view wears `@creates_once` and names what it
made with `form_created(request, record)`:

    @creates_once
    def finding_create(request):
        ...
        finding = record_finding(...)
        form_created(request, finding)
        return redirect("grids:finding_detail", pk=finding.pk)

The view then runs in one transaction with the row that binds the token to the record and to
the page the view sent the person to (`shanglong.models.FormSubmission`, unique per form and
token). The same form sent again with that token (Back, then Save; a double tap) writes
nothing: the person is sent to that page with a message. Two sendings at the same moment: the
second one's insert of the token fails, its whole transaction rolls back, and it is answered
the same way. A POST without a token (an old page, a script) is served as before.

Tokens are forgotten after FORM_TOKEN_DAYS (beat's `purge-form-tokens`).
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseRedirectBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from shanglong.models import FormSubmission

FORM_TOKEN_FIELD = "form_token"
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,64}")

View = Callable[..., HttpResponse]


def form_token(request: HttpRequest) -> str:
    """The token of the forms this page shows: the one the form was sent with when the page
    shows it again (with its errors), else a new one, the same for the whole page. Issuing it
    writes nothing."""
    token = getattr(request, "form_token", None)
    if token is None:
        token = secrets.token_urlsafe(24)
        request.form_token = token  # type: ignore[attr-defined]
    return token


def _sent_token(request: HttpRequest) -> str | None:
    value = request.POST.get(FORM_TOKEN_FIELD, "")
    return value if _TOKEN_SHAPE.fullmatch(value) else None


def form_created(request: HttpRequest, record: models.Model | None = None) -> None:
    """Say the create form made its record (`None` for a form that makes many, such as an
    import); a no-op outside `creates_once`."""
    if getattr(request, "_form_guard", None) is not None:
        request._form_created = (record,)  # type: ignore[attr-defined]


def _already_made(request: HttpRequest, earlier: FormSubmission) -> HttpResponse:
    messages.info(request, _("This form was already sent; here is what it made. Nothing was saved twice."))
    return redirect(earlier.url)


def creates_once(view: View) -> View:
    """A create form's view that makes at most one record per form token (see the module)."""
    form = f"{view.__module__}.{view.__qualname__}"

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = _sent_token(request) if request.method == "POST" else None
        if token is None or not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        earlier = FormSubmission.objects.sent(user=request.user, form=form, token=token)
        if earlier is not None:
            return _already_made(request, earlier)
        request.form_token = token  # type: ignore[attr-defined]  # shown again with the errors
        request._form_guard = form  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                response = view(request, *args, **kwargs)
                created = getattr(request, "_form_created", None)
                if created is not None and isinstance(response, HttpResponseRedirectBase):
                    (record,) = created
                    FormSubmission.objects.create(
                        token=token,
                        form=form,
                        user=request.user,
                        model_label=record._meta.label if record is not None else "",
                        object_id=str(record.pk) if record is not None else "",
                        url=response.url[:500],
                    )
        except IntegrityError:
            # The same form sent twice at once: this sending's records are rolled back.
            earlier = FormSubmission.objects.sent(user=request.user, form=form, token=token)
            if earlier is None:
                raise
            return _already_made(request, earlier)
        return response

    return guarded

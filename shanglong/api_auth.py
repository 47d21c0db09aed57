"""Authentication of API calls by expiring, hashed tokens (`Authorization: Bearer <prefix>.<secret>`).

A module of its own because DRF imports authentication classes from its settings while it
imports `rest_framework.views`; a module that also defined viewsets would import itself in a
circle. The viewsets, serializers and the token endpoint are in `shanglong.api`.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from shanglong.models import ApiToken
from shanglong.refusals import Refusal

# last_used_at is written at most this often per token, so a busy app does not write a row
# on every call.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=5)

# Compared against when the prefix is unknown, so an unknown and a wrong key take the same time.
_DUMMY_HASH = hashlib.sha256(b"no such token").hexdigest()


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <prefix>.<secret>`: the prefix finds the token, the SHA-256 of the
    secret is compared in constant time. Expired, revoked and unknown tokens are refused with
    401 and a message that says which (only once the secret matched, for expiry and revocation)."""

    keyword = "Bearer"
    www_authenticate = 'Bearer realm="api"'

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid Authorization header: send 'Authorization: Bearer <prefix>.<secret>'.")
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(_("Invalid API token: it contains non-ASCII characters.")) from error
        return self.authenticate_key(key)

    def authenticate_key(self, key: str) -> tuple[Any, ApiToken]:
        prefix, dot, secret = key.partition(".")
        if not dot or not prefix or not secret:
            raise exceptions.AuthenticationFailed(_("Invalid API token: expected <prefix>.<secret>."))
        # One query: the token and its person.
        token = ApiToken.objects.select_related("user").filter(prefix=prefix[:12]).first()
        if token is None:
            hmac.compare_digest(_DUMMY_HASH, hashlib.sha256(secret.encode()).hexdigest())
            raise exceptions.AuthenticationFailed(_("Invalid API token."))
        if not token.secret_matches(secret):
            raise exceptions.AuthenticationFailed(_("Invalid API token."))
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This API token has been revoked."))
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("This API token has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The account of this API token is disabled."))
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.www_authenticate


def refusal_api_response(refusal: Refusal) -> Response:
    """The API's answer to a refusal of the family (shanglong.refusals): its status, the message as
    `detail` with its `code`, and the message under the field it names, if any."""
    body: dict[str, Any] = {"detail": str(refusal), "code": refusal.code}
    if refusal.field:
        body[refusal.field] = [str(refusal)]
    return Response(body, status=refusal.status_code)


def oversized_request_response(exc: Exception) -> Response:
    """The API's answer to a body over Django's limits (DATA_UPLOAD_MAX_MEMORY_SIZE, too many
    fields or files): the JSON error body with 413 Content Too Large, where Django would answer
    with its HTML 400 page."""
    if isinstance(exc, RequestDataTooBig):
        message = _("The request body is too large; the limit is %(limit)s, files not counted.") % {
            "limit": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        }
    else:
        message = str(_("The request has too many fields or files."))
    return Response({"detail": str(message), "code": "too_large"}, status=413)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The one mapping of errors to API answers. A refusal of the family (ActionRefused 400,
    NotAllowed 403, Conflict 409) answers with its status and message; a body over Django's
    limits is a 413 in the same shape (documented by shanglong.openapi). Otherwise DRF's handler,
    except that a missing or refused authentication is always 401 with a
    `WWW-Authenticate: Bearer` challenge. DRF would answer 403 because session authentication
    comes first in the settings and has no challenge of its own."""
    from rest_framework.views import exception_handler  # imported here: see the module's docstring

    if isinstance(exc, Refusal):
        return refusal_api_response(exc)
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        return oversized_request_response(exc)
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError) and isinstance(response.data, list):
        # A ValidationError raised outside a serializer's fields (as_drf_error of a model's
        # clean()) would be a bare list: the messages go under non_field_errors, as DRF puts a
        # serializer's own, so every error body is an object of the one Error schema.
        response.data = {api_settings.NON_FIELD_ERRORS_KEY: response.data}
    if response is not None and isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.status_code = 401
        response["WWW-Authenticate"] = BearerTokenAuthentication.www_authenticate
    return response

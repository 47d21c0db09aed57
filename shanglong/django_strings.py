"""Django's own user-visible strings that its Simplified Chinese catalogue does not translate.

Never imported: listing them here puts them into locale/zh_Hans through makemessages, and the
project's catalogue (LOCALE_PATHS) takes precedence over Django's when a message is looked up.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

DJANGO_STRINGS = [
    # django.db.models.fields.BLANK_CHOICE_LABEL (Django 6): the empty choice of every select.
    gettext_noop("- Select an option -"),
    # django.forms.Form.label_suffix: the colon after every label ("姓名："), full width in
    # Chinese (Django's own catalogue keeps the ASCII colon).
    gettext_noop(":"),
]

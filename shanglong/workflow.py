"""Workflows: the one mechanism every state machine of the portal uses (findings first; cases,
rectifications, service requests, projects and nominations next).

A record's model declares its workflow as data: a `Workflow` with a transitions table, each
`Transition` saying from which states an action leads to which state and who may take it (a
predicate `(user, record) -> bool`). An action function calls `workflow.transition(...)`, which

- refuses with the family of shanglong.refusals: an action the workflow does not have
  (`UnknownAction`, 400), a person the predicate refuses (`NotAllowed`, 403, or the workflow's
  own subclass), an action that does not exist from the record's state (`NotFromThisState`,
  400, or the refusal the workflow names for that state, such as "this finding is closed");
- does the guarded update `filter(pk, status=<as read>, version=<as seen>).update(status=...,
  version=F("version") + 1, ...)`: no row changed means someone else moved the record since
  the person read it, a `Conflict` (409), and nothing is written;
- in the same transaction writes the timeline row (who, when, action, from, to, note) and its
  attachments through the core media helper, and puts the step's notifications in the inbox
  (shanglong.notifications.notify: the rows roll back with the step, and delivery through the
  channels is queued with `transaction.on_commit`, so nobody is told about a step that did not
  happen).

Why not django-fsm-2 with django-fsm-log: fsm-2 changes the state in memory and saves the whole
row; its ConcurrentTransitionMixin guards on the state field alone, not on the version a form or
an API client carries (two follow-ups from the same state would both pass), and it raises its
own TransitionNotAllowed/ConcurrentTransition instead of our refusals. fsm-log writes one shared
StateLog table through a post_transition signal with a generic foreign key: no PROTECT to the
record, no notes or attachments of ours, and the control flow hidden in a signal, which the house
style rules out. What we need is a small table and one guarded update, so we write it ourselves.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shanglong.media import store_attachment
from shanglong.models import TimelineEntry, User
from shanglong.notifications import Message, notify
from shanglong.refusals import ActionRefused, Conflict, NotAllowed, Refusal
from shanglong.roles import Viewer

# Who may take a step: (the person, the record as they read it) -> bool.
type Predicate = Callable[[Any, Any], bool]


class UnknownAction(ActionRefused):
    """400: the workflow has no such action (a client sent a name we do not know)."""

    code = "unknown_action"
    message = _("This record has no such step; nothing was changed.")


class NotFromThisState(ActionRefused):
    """400: the action exists, but not from the state the record is in."""

    code = "not_from_this_state"
    message = _("This step cannot be taken from the record's present state; nothing was changed.")


class AttachmentRefused(ActionRefused):
    """400: an attachment of the step did not pass the media checks; the step was not taken."""

    code = "attachment_refused"


@dataclass(frozen=True)
class Transition:
    """One row of a workflow's table: `action` leads a record in one of `sources` to `target`;
    `allowed` says who may take it. `sets` gives the other columns the step stamps (a closing
    time) from the moment of the step; `messages` the notifications it sends, from the record
    (already in its new state) and the timeline row."""

    action: str
    sources: frozenset[str]
    target: str
    allowed: Predicate
    label: str | Promise
    sets: Callable[[datetime.datetime], dict[str, Any]] | None = None
    messages: Callable[[Any, TimelineEntry], Iterable[Message]] | None = None


def step(
    action: str,
    *,
    sources: Iterable[str],
    target: str,
    allowed: Predicate,
    label: str | Promise,
    sets: Callable[[datetime.datetime], dict[str, Any]] | None = None,
    messages: Callable[[Any, TimelineEntry], Iterable[Message]] | None = None,
) -> Transition:
    """A Transition, written as a table row is read: `step("close", sources=[...], target=...)`."""
    return Transition(
        action=action,
        sources=frozenset(str(source) for source in sources),
        target=str(target),
        allowed=allowed,
        label=label,
        sets=sets,
        messages=messages,
    )


class Workflow:
    """The state machine of one record type: its statuses (a TextChoices), its transitions table,
    its timeline model (a concrete TimelineEntry with a PROTECT foreign key `record_field` to the
    record) and the refusals it tells: `not_allowed` for a person the predicate refuses,
    `changed` for a record moved since it was read, and `state_refusals` for the states from
    which some action is asked that does not exist there (by default NotFromThisState)."""

    def __init__(
        self,
        *,
        statuses: type[models.TextChoices],
        timeline: type[TimelineEntry],
        record_field: str,
        transitions: Sequence[Transition],
        not_allowed: type[Refusal] = NotAllowed,
        changed: type[Refusal] = Conflict,
        state_refusals: Mapping[str, type[Refusal]] | None = None,
        status_field: str = "status",
        version_field: str = "version",
    ) -> None:
        self.statuses = statuses
        self.timeline = timeline
        self.record_field = record_field
        self.transitions = {transition.action: transition for transition in transitions}
        if len(self.transitions) != len(transitions):
            raise ValueError("A workflow names each action once.")
        unknown = {
            state
            for transition in transitions
            for state in (*transition.sources, transition.target)
            if state not in statuses.values
        }
        if unknown:
            raise ValueError(f"Transitions name states the workflow does not have: {sorted(unknown)}")
        self.not_allowed = not_allowed
        self.changed = changed
        self.state_refusals = dict(state_refusals or {})
        self.status_field = status_field
        self.version_field = version_field
        timeline.workflow = self  # its rows label their codes through the workflow

    @property
    def record_model(self) -> type[models.Model]:
        related = self.timeline._meta.get_field(self.record_field).related_model
        if not (isinstance(related, type) and issubclass(related, models.Model)):
            raise TypeError(f"{self.timeline.__name__}.{self.record_field} is not a foreign key to a model.")
        return related

    # --- Reading --------------------------------------------------------------------------

    def status_label(self, status: str) -> str:
        labels = dict(self.statuses.choices)
        return str(labels.get(status, status))

    def action_label(self, action: str) -> str:
        transition = self.transitions.get(action)
        return str(transition.label) if transition is not None else action

    def actions_from(self, status: str) -> list[str]:
        """The actions a record in this status can take, whoever asks (a page that decided who
        may act once for all its records offers these)."""
        return [transition.action for transition in self.transitions.values() if status in transition.sources]

    def available(self, user: Viewer, record: models.Model) -> list[Transition]:
        """The actions the person may take on the record in its present state (for the buttons
        of a page). Each distinct predicate is asked once."""
        status = getattr(record, self.status_field)
        answers: dict[Predicate, bool] = {}
        offered = []
        for transition in self.transitions.values():
            if status not in transition.sources:
                continue
            if transition.allowed not in answers:
                answers[transition.allowed] = bool(transition.allowed(user, record))
            if answers[transition.allowed]:
                offered.append(transition)
        return offered

    def timeline_of(self, record: models.Model, user: Viewer) -> models.QuerySet:
        """The record's steps in order, as the person may see them (the timeline model's own
        visible_to), with who took them and their attachments: three queries in all."""
        manager: Any = self.timeline._default_manager
        return (
            manager.visible_to(user)
            .filter(**{self.record_field: record})
            .select_related("by")
            .prefetch_related("attachments")
            .order_by("at", "pk")
        )

    # --- Writing --------------------------------------------------------------------------

    def _refusal_in(self, status: str) -> type[Refusal]:
        return self.state_refusals.get(status, NotFromThisState)

    def transition(
        self,
        record: models.Model,
        *,
        action: str,
        by: User,
        note: str = "",
        version: int | None = None,
        attachments: Iterable[UploadedFile] = (),
        images_only: bool = False,
        changes: Mapping[str, Any] | None = None,
    ) -> TimelineEntry:
        """Take one step on `record` as read by the person (`version` is the one they saw; by
        default the one `record` was read with) and return its timeline row. `changes` are
        further columns the caller sets with the step. The record in memory is refreshed with
        what the step wrote."""
        transition = self.transitions.get(action)
        if transition is None:
            raise UnknownAction
        if not transition.allowed(by, record):
            raise self.not_allowed
        source = getattr(record, self.status_field)
        if source not in transition.sources:
            raise self._refusal_in(source)
        seen = getattr(record, self.version_field) if version is None else version
        now = timezone.now()
        values: dict[str, Any] = {
            **(transition.sets(now) if transition.sets else {}),
            **(changes or {}),
            self.status_field: transition.target,
            self.version_field: F(self.version_field) + 1,
        }
        model = self.record_model
        with transaction.atomic():
            guard = {"pk": record.pk, self.status_field: source, self.version_field: seen}
            if not model._base_manager.filter(**guard).update(**values):
                current = model._base_manager.filter(pk=record.pk).values_list(self.status_field, flat=True).first()
                if current is not None and current not in transition.sources:
                    raise self._refusal_in(current)
                raise self.changed
            entry = self.timeline._default_manager.create(
                **{self.record_field: record},
                by=by,
                at=now,
                action=transition.action,
                from_status=source,
                status=transition.target,
                note=note.strip(),
            )
            stored = []
            for upload in attachments:
                if not upload:
                    continue
                try:
                    stored.append(store_attachment(record=entry, uploaded=upload, user=by, images_only=images_only))
                except ValidationError as error:
                    # The step rolls back; the files already written would be left with no row.
                    for attachment in stored:
                        attachment.file.delete(save=False)
                    raise AttachmentRefused(" ".join(error.messages), field="attachments") from error
            record.refresh_from_db(fields=[name for name in values if name != "pk"])
            if transition.messages is not None:
                notify(list(transition.messages(record, entry)))
        return entry

"""The workflow mechanism's declarations (shanglong.workflow): a transitions table that names a
state the record does not have, or one action twice, is refused when the model module loads,
not on the first request that takes the step. (Its steps are tested through findings, its first
user: tests/grids/test_finding_workflow.py.)"""

from __future__ import annotations

import pytest

from grids.models import FINDING_WORKFLOW, FindingFollowUp, FindingStatus
from shanglong.workflow import Workflow, step


def anyone(user, record) -> bool:
    return True


def test_a_transition_to_a_state_the_record_does_not_have_is_refused():
    with pytest.raises(ValueError, match="reopened"):
        Workflow(
            statuses=FindingStatus,
            timeline=FindingFollowUp,
            record_field="finding",
            transitions=[step("reopen", sources=[FindingStatus.CLOSED], target="reopened", allowed=anyone, label="x")],
        )
    assert FindingFollowUp.workflow is FINDING_WORKFLOW  # a refused declaration changes nothing


def test_an_action_named_twice_is_refused():
    twice = [
        step("close", sources=[FindingStatus.OPEN], target=FindingStatus.CLOSED, allowed=anyone, label="x"),
        step("close", sources=[FindingStatus.FOLLOWED_UP], target=FindingStatus.CLOSED, allowed=anyone, label="y"),
    ]
    with pytest.raises(ValueError, match="once"):
        Workflow(statuses=FindingStatus, timeline=FindingFollowUp, record_field="finding", transitions=twice)
    assert FindingFollowUp.workflow is FINDING_WORKFLOW


def test_the_findings_workflow_is_the_table_of_its_steps():
    table = {
        action: (sorted(transition.sources), transition.target)
        for action, transition in FINDING_WORKFLOW.transitions.items()
    }
    assert table == {
        "follow_up": (["followed_up", "open"], "followed_up"),
        "close": (["followed_up", "open"], "closed"),
    }
    assert FINDING_WORKFLOW.record_model._meta.label == "grids.Finding"

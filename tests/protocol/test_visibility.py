"""History visibility rules (modules/history_visibility.md §Server behaviour)."""

from __future__ import annotations

import pytest

from myelin.protocol.visibility import VisibilityFacts, allowed, event_visible, normalise_visibility


@pytest.mark.parametrize(("visibility", "membership", "joined_later", "expected"), [
    ("world_readable", None, False, True),          # rule 1
    ("joined", "join", False, True),                # rule 2
    ("shared", "join", False, True),
    ("shared", None, True, True),                   # rule 3
    ("shared", "leave", False, False),
    ("shared", None, False, False),
    ("invited", "invite", False, True),             # rule 4
    ("joined", "invite", False, False),
    ("invited", None, True, False),                 # rule 3 is for shared only
    ("joined", "leave", True, False),               # rule 5
])
def test_rules(visibility, membership, joined_later, expected):
    assert allowed(VisibilityFacts(visibility, membership, joined_later)) is expected


def test_unknown_visibility_is_shared():
    assert normalise_visibility("something_else") == "shared"
    assert normalise_visibility(None) == "shared"
    assert normalise_visibility("joined") == "joined"


def test_own_membership_event_visible_before_or_after():
    before = VisibilityFacts("joined", None, False)
    after = VisibilityFacts("joined", "join", False)
    assert not event_visible(before, None)
    assert event_visible(before, after)

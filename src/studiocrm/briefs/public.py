"""What other apps may read of briefs. Keep these names and meanings stable.

``latest_submitted_brief(deal) -> Brief | None``
    The deal's most recently submitted brief, or None. Estimates drafts from its answers;
    documents quote them ("how we understood the task").
``question_keys() -> set[str]``
    Every question key the studio's brief templates ask (estimate rules refer to them).
``Brief``
    The model, for reading ``answers``, ``questions`` (the frozen snapshot) and dates.
"""

from __future__ import annotations

from studiocrm.briefs.models import Brief, BriefQuestion
from studiocrm.briefs.services import latest_submitted_brief

__all__ = ["Brief", "latest_submitted_brief", "question_keys"]


def question_keys() -> set[str]:
    return set(BriefQuestion.objects.values_list("key", flat=True))

"""One case-status vocabulary (seed 003's words) for the desk, the issue and the volunteer pages, with
the plural forms of each language."""

from __future__ import annotations

import pytest

from newsletter import i18n, vocabulary
from newsletter.editorial import persons
from newsletter.issues import snapshot
from newsletter.models import CASE_STATUSES, PERSON_CONSENT, PERSON_ROLES
from newsletter.submissions import labels


def test_every_status_role_and_consent_has_words() -> None:
    assert set(vocabulary.CASE_STATUS_LABELS) == set(CASE_STATUSES) == set(vocabulary.CASE_STATUS_COUNTS)
    assert set(vocabulary.ROLE_LABELS) == set(PERSON_ROLES)
    assert set(vocabulary.PERSON_CONSENT_LABELS) == set(PERSON_CONSENT)


def test_desk_issue_and_volunteer_pages_share_one_table_each() -> None:
    assert persons.STATUS_LABELS is vocabulary.CASE_STATUS_LABELS
    assert persons.ROLE_LABELS is labels.ROLE_LABELS is vocabulary.ROLE_LABELS
    assert persons.CONSENT_LABELS is vocabulary.PERSON_CONSENT_LABELS
    assert labels.CONSENT_LABELS is vocabulary.REPORT_CONSENT_LABELS
    assert snapshot.status_label is vocabulary.status_label
    assert vocabulary.status_label("suspended_sentence") == "received suspended sentences"  # seed 003
    assert vocabulary.status_label("no_such_status") == "no such status"


@pytest.mark.parametrize(("count", "expected"), [
    (1, "1 person has received a suspended sentence"),
    (8, "8 people have received suspended sentences"),
    (0, "0 people have received suspended sentences"),
])
def test_singular_and_plural_in_english(count: int, expected: str) -> None:
    assert vocabulary.status_count("suspended_sentence", count) == expected


def test_the_summary_reads_like_the_reports() -> None:
    counts = [("convicted_prison", 17), ("suspended_sentence", 1), ("forced_psychiatric_placement", 1),
              ("released", 0)]
    assert vocabulary.status_summary(counts) == (
        "17 people are being held in prison; 1 person has received a suspended sentence; "
        "1 person is being forcibly held in a mental hospital.")
    assert vocabulary.status_summary([]) == ""
    assert persons.summary_sentence([("detained", "detained", 1)]) == "1 person is detained."


@pytest.mark.parametrize(("count", "expected"), [
    (1, "1 человек получил условный срок"),
    (3, "3 человека получили условные сроки"),
    (5, "5 человек получили условные сроки"),
    (11, "11 человек получили условные сроки"),
    (21, "21 человек получил условный срок"),
])
def test_three_russian_plural_forms(count: int, expected: str) -> None:
    with i18n.use_language("ru"):
        assert vocabulary.status_count("suspended_sentence", count) == expected


def test_russian_labels_and_summary() -> None:
    with i18n.use_language("ru"):
        assert vocabulary.status_label("convicted_prison") == "в заключении"
        assert vocabulary.role_label("trade_unionist") == "Профсоюзный активист(ка)"
        assert vocabulary.person_consent_label("alias") == "только под псевдонимом"
        assert vocabulary.status_summary([("prosecution_continues", 2), ("convicted_prison", 1)]) == (
            "Преследование 2 человек продолжается; 1 человек находится в заключении.")
    assert vocabulary.status_label("convicted_prison") == "held in prison"  # the binding ended with the block


def test_every_incident_kind_and_role_group_has_words_in_english_and_russian() -> None:
    from newsletter.models import INCIDENT_KINDS

    assert set(vocabulary.INCIDENT_KIND_LABELS) == set(INCIDENT_KINDS) - {"other"}
    assert set(vocabulary.ROLE_GROUP_LABELS) == set(PERSON_ROLES)
    assert vocabulary.kind_label("psychiatric_placement") == "Forced psychiatric placement"  # seed 004
    assert vocabulary.kind_label("other") is None and vocabulary.kind_label(None) is None
    with i18n.use_language("ru"):
        assert vocabulary.kind_label("detention") == "Задержание"
        assert vocabulary.role_group_label("trade_unionist") == "профсоюзные активисты"
        for kind, label in vocabulary.INCIDENT_KIND_LABELS.items():
            assert vocabulary.kind_label(kind) != label, kind
        for role, label in vocabulary.ROLE_GROUP_LABELS.items():
            assert vocabulary.role_group_label(role) != label, role

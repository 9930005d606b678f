"""The words for the register's choices, said the same way on the desk, in the issue and on the volunteer pages.

Wording follows the organisation's own reports (seed 003: "17 people are being held in prison;
8 people have received suspended sentences"). Tables hold English source strings marked with N_
for extraction (newsletter/locale); the functions translate them into the language newsletter.i18n
has bound, with the plural forms of that language (Russian has three).
"""

from __future__ import annotations

from collections.abc import Iterable

from newsletter.i18n import N_, NP_, _, ngettext

# A person's case status on a day: the short label (lists, menus, the summary table).
CASE_STATUS_LABELS: dict[str, str] = {
    "summoned": N_("summoned for questioning"),
    "searched": N_("searched"),
    "detained": N_("detained"),
    "pre_trial_detention": N_("held in pre-trial detention"),
    "house_arrest": N_("under house arrest"),
    "charged": N_("charged"),
    "on_trial": N_("on trial"),
    "convicted_prison": N_("held in prison"),
    "restricted_freedom": N_("sentenced to restricted freedom"),
    "suspended_sentence": N_("received suspended sentences"),
    "fined": N_("fined"),
    "forced_psychiatric_examination": N_("sent for forced psychiatric examination"),
    "forced_psychiatric_placement": N_("forcibly held in a mental hospital"),
    "released": N_("released"),
    "acquitted": N_("acquitted"),
    "in_exile": N_("in exile"),
    "extradition_requested": N_("facing extradition requests"),
    "prosecution_continues": N_("still being prosecuted"),
}

# The same status counted in a sentence: (singular, plural) for ngettext; %(num)d is the count.
# NP_ marks a plural pair: extract with `-k NP_:1,2` (see newsletter/locale/babel.cfg).
CASE_STATUS_COUNTS: dict[str, tuple[str, str]] = {
    "summoned": NP_("%(num)d person has been summoned for questioning",
                    "%(num)d people have been summoned for questioning"),
    "searched": NP_("%(num)d person has been searched", "%(num)d people have been searched"),
    "detained": NP_("%(num)d person is detained", "%(num)d people are detained"),
    "pre_trial_detention": NP_("%(num)d person is being held in pre-trial detention",
                               "%(num)d people are being held in pre-trial detention"),
    "house_arrest": NP_("%(num)d person is under house arrest", "%(num)d people are under house arrest"),
    "charged": NP_("%(num)d person has been charged", "%(num)d people have been charged"),
    "on_trial": NP_("%(num)d person is on trial", "%(num)d people are on trial"),
    "convicted_prison": NP_("%(num)d person is being held in prison",
                            "%(num)d people are being held in prison"),
    "restricted_freedom": NP_("%(num)d person has been sentenced to restricted freedom",
                              "%(num)d people have been sentenced to restricted freedom"),
    "suspended_sentence": NP_("%(num)d person has received a suspended sentence",
                              "%(num)d people have received suspended sentences"),
    "fined": NP_("%(num)d person has been fined", "%(num)d people have been fined"),
    "forced_psychiatric_examination": NP_("%(num)d person has been sent for forced psychiatric examination",
                                          "%(num)d people have been sent for forced psychiatric examination"),
    "forced_psychiatric_placement": NP_("%(num)d person is being forcibly held in a mental hospital",
                                        "%(num)d people are being forcibly held in a mental hospital"),
    "released": NP_("%(num)d person has been released", "%(num)d people have been released"),
    "acquitted": NP_("%(num)d person has been acquitted", "%(num)d people have been acquitted"),
    "in_exile": NP_("%(num)d person is in exile", "%(num)d people are in exile"),
    "extradition_requested": NP_("%(num)d person is facing an extradition request",
                                 "%(num)d people are facing extradition requests"),
    "prosecution_continues": NP_("%(num)d person is still being prosecuted",
                                 "%(num)d people are still being prosecuted"),
}

# A person's role (register, volunteer form).
ROLE_LABELS: dict[str, str] = {
    "activist": N_("Activist"),
    "journalist": N_("Journalist"),
    "blogger": N_("Blogger"),
    "lawyer": N_("Lawyer"),
    "trade_unionist": N_("Trade unionist"),
    "human_rights_defender": N_("Human rights defender"),
    "relative": N_("Relative"),
    "politician": N_("Politician"),
    "religious_believer": N_("Religious believer"),
    "citizen": N_("Ordinary citizen"),
    "other": N_("Other"),
}

# What happened, as an item's metadata line says it (Incident.kind; seed 004: "Detention").
INCIDENT_KIND_LABELS: dict[str, str] = {
    "search": N_("Search"),
    "summons": N_("Summons for questioning"),
    "detention": N_("Detention"),
    "arrest": N_("Arrest"),
    "charge": N_("Charges"),
    "trial": N_("Trial"),
    "verdict": N_("Verdict"),
    "fine": N_("Fine"),
    "psychiatric_examination": N_("Forced psychiatric examination"),
    "psychiatric_placement": N_("Forced psychiatric placement"),
    "assault": N_("Assault"),
    "dismissal": N_("Dismissal"),
    "blocking": N_("Blocking"),
    "pressure_on_relatives": N_("Pressure on relatives"),
    "solidarity_action": N_("Solidarity action"),
    "legislation": N_("Legislation"),
    "international": N_("International reaction"),
}

# A group of persons of one role in the persons block (seed 003: "17 in prison: civil activists ...").
ROLE_GROUP_LABELS: dict[str, str] = {
    "activist": N_("civil activists"),
    "journalist": N_("journalists"),
    "blogger": N_("bloggers"),
    "lawyer": N_("lawyers"),
    "trade_unionist": N_("trade unionists"),
    "human_rights_defender": N_("human rights defenders"),
    "relative": N_("relatives"),
    "politician": N_("politicians"),
    "religious_believer": N_("religious believers"),
    "citizen": N_("citizens"),
    "other": N_("others"),
}

# How a person of the register may be named in public outputs (Person.consent).
PERSON_CONSENT_LABELS: dict[str, str] = {
    "name": N_("may be named"),
    "alias": N_("only by alias"),
    "initials": N_("only by initials"),
    "none": N_("never named"),
}

# What a volunteer allows for their report (Incident.publication as the form offers it): label, hint.
REPORT_CONSENT_LABELS: dict[str, tuple[str, str]] = {
    "names": (N_("Publish with names"), N_("The people concerned agree to be named.")),
    "no_names": (N_("Publish without names"),
                 N_("We publish what happened, but no names; people appear only by initials or an alias.")),
    "count_only": (N_("Do not publish, only count"),
                   N_("Nothing about this report is published; it only counts in our statistics.")),
}


# An incident's place in the desk's workflow (models.INCIDENT_STATES), as an editor says it.
INCIDENT_STATE_LABELS: dict[str, str] = {
    "new": N_("new"),
    "needs_info": N_("needs info"),
    "accepted": N_("accepted"),
    "scheduled": N_("in a draft issue"),
    "published": N_("published"),
    "rejected": N_("rejected"),
    "duplicate": N_("merged duplicate"),
}

# Where an incident came from (models.ORIGINS).
ORIGIN_LABELS: dict[str, str] = {
    "feed": N_("news feed"),
    "volunteer": N_("volunteer or partner"),
    "editor": N_("editor"),
    "import": N_("import"),
}


def state_label(state: str) -> str:
    """An incident state as the desk shows it ("needs info", not "needs_info"); unknown ones as written."""
    label = INCIDENT_STATE_LABELS.get(state)
    return _(label) if label else state.replace("_", " ")


def origin_label(origin: str) -> str:
    label = ORIGIN_LABELS.get(origin)
    return _(label) if label else origin.replace("_", " ")


def status_label(status: str) -> str:
    """The short label of a case status in the bound language; an unknown one is shown as written."""
    label = CASE_STATUS_LABELS.get(status)
    return _(label) if label else status.replace("_", " ")


def status_count(status: str, count: int) -> str:
    """'1 person has received a suspended sentence', '8 people have received suspended sentences'."""
    forms = CASE_STATUS_COUNTS.get(status)
    if forms is None:
        return ngettext("%(num)d person: %(status)s", "%(num)d people: %(status)s", count,
                        status=status.replace("_", " "))
    return ngettext(forms[0], forms[1], count)


def status_summary(counts: Iterable[tuple[str, int]]) -> str:
    """The summary as the reports write it: '17 people are being held in prison; 1 person has ...'."""
    parts = [status_count(status, count) for status, count in counts if count]
    text = "; ".join(parts) + "." if parts else ""
    return text[:1].upper() + text[1:]  # a language may start with a word ("преследование 2 человек ...")


def role_label(role: str | None) -> str:
    return _(ROLE_LABELS[role]) if role in ROLE_LABELS else (role or "").replace("_", " ")


def role_group_label(role: str | None) -> str:
    """'trade unionists': the role of a group of persons; no role is 'others'."""
    return _(ROLE_GROUP_LABELS.get(role or "other", ROLE_GROUP_LABELS["other"]))


def kind_label(kind: str | None) -> str | None:
    """The incident kind as readers see it; "other" and an unknown kind say nothing rather than a code."""
    label = INCIDENT_KIND_LABELS.get(kind or "")
    return _(label) if label else None


def person_consent_label(consent: str) -> str:
    label = PERSON_CONSENT_LABELS.get(consent)
    return _(label) if label else consent

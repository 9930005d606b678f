"""Names of the choices on the volunteer pages, marked for translation and translated where shown.

Roles and consent choices are shared with the desk: they come from newsletter.vocabulary.
"""

from __future__ import annotations

from newsletter import vocabulary
from newsletter.i18n import N_

KIND_LABELS = {
    "search": N_("Search of a home or office"),
    "summons": N_("Summons for questioning"),
    "detention": N_("Detention"),
    "arrest": N_("Arrest"),
    "charge": N_("Criminal or administrative charge"),
    "trial": N_("Trial"),
    "verdict": N_("Verdict or sentence"),
    "fine": N_("Fine"),
    "psychiatric_examination": N_("Forced psychiatric examination"),
    "psychiatric_placement": N_("Forced psychiatric placement"),
    "assault": N_("Assault or threats"),
    "dismissal": N_("Dismissal from work or study"),
    "blocking": N_("Blocking of a website or account"),
    "pressure_on_relatives": N_("Pressure on relatives"),
    "solidarity_action": N_("Solidarity action"),
    "other": N_("Something else"),
}
ROLE_LABELS = vocabulary.ROLE_LABELS
PRECISION_LABELS = {
    "day": N_("on this exact day"),
    "week": N_("during the week of this date"),
    "month": N_("during the month of this date"),
}
CONSENT_LABELS = vocabulary.REPORT_CONSENT_LABELS
# Where a volunteer's report stands (the receipt page); not a person's case status.
REPORT_STATUS_LABELS = {
    "received": (N_("Received"), N_("Your report is stored. Editors have not reviewed it yet.")),
    "needs_info": (N_("More information needed"), N_("Editors have a question about your report; see below.")),
    "accepted": (N_("Accepted"), N_("Editors have checked your report and will include it in a newsletter.")),
    "published": (N_("Published"), N_("Your report is part of a published newsletter.")),
    "not_published": (N_("Reviewed, not published"),
                      N_("Editors reviewed your report and decided not to publish it. It stays in our records.")),
}

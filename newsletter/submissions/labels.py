"""Names of the choices on the volunteer pages, marked for translation and translated where shown."""

from __future__ import annotations

from newsletter.submissions.i18n import N_

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
ROLE_LABELS = {
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
PRECISION_LABELS = {
    "day": N_("on this exact day"),
    "week": N_("during the week of this date"),
    "month": N_("during the month of this date"),
}
CONSENT_LABELS = {
    "names": (N_("Publish with names"), N_("The people concerned agree to be named.")),
    "no_names": (N_("Publish without names"),
                 N_("We publish what happened, but no names; people appear only by initials or an alias.")),
    "count_only": (N_("Do not publish, only count"),
                   N_("Nothing about this report is published; it only counts in our statistics.")),
}
STATUS_LABELS = {
    "received": (N_("Received"), N_("Your report is stored. Editors have not reviewed it yet.")),
    "needs_info": (N_("More information needed"), N_("Editors have a question about your report; see below.")),
    "accepted": (N_("Accepted"), N_("Editors have checked your report and will include it in a newsletter.")),
    "published": (N_("Published"), N_("Your report is part of a published newsletter.")),
    "not_published": (N_("Reviewed, not published"),
                      N_("Editors reviewed your report and decided not to publish it. It stays in our records.")),
}

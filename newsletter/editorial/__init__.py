"""The editors' side: triage states, sections, persons and cases, merging, accounts, audit."""

"""Issue assembly, consent and sign-off."""

"""Silent SOS: the citizen's one-tap alert, its follow-up channel, group-committed intake."""

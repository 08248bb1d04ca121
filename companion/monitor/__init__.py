"""The call monitor: pace, volume and pitch, interruptions, talk share, monologues, dead air."""

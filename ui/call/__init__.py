"""The call window: the coaching banner, transcript, meters, checklist, mood strip, summary, and the team live on an agent's window."""

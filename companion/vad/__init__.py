"""Voice activity per party: who is speaking, frame by frame, and their turns."""

"""Looking back at calls: History and the replay window with its timeline and mood band."""

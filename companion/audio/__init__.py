"""Audio in: call recordings (and, later, live devices) turned into aligned frames per party."""

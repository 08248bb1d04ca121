"""The team windows: Team History, the supervisor's dashboard and live floor, and the server client they share."""

"""`companion live` on an agent's machine connected to a team: the call it coaches on the virtual
softphone reaches the team's real PostgreSQL server by itself, as the live call ends."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests import scenarios
from tests.installed import OUTSIDE
from tests.pg_server import pg_server  # noqa: F401  (the session's PostgreSQL server)
from tests.team_calls import Agent, TeamDb
from tests.test_live import split_parties
from tests.test_team_sync import FAST


@pytest.fixture
def team(pg_server):  # noqa: F811
    t = TeamDb(pg_server, share_text=True, share_audio=False)
    yield t
    t.close()


def test_a_live_call_on_a_connected_agents_machine_is_on_the_team_server_when_it_ends(team, softphone, make_call,
                                                                                     tmp_path):
    ann = Agent(team, "ann", tmp_path, team_settings=FAST)
    ann.connect()
    wav, truth = make_call(scenarios.customer_interrupts())
    agent_wav, customer_wav = split_parties(wav, tmp_path)
    env = ann.env(**{k: v for k, v in softphone.items() if k.startswith(("PULSE", "XDG"))})
    proc = subprocess.Popen([sys.executable, "-m", "ui", "live", "--agent-device", "agent_mic.monitor",
                             "--customer-device", "softphone.monitor", "--model", "none",
                             "--duration", str(truth.duration_s + 3)],
                            env=env, cwd=OUTSIDE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    players = [subprocess.Popen(["paplay", "-d", sink, str(f)], env=dict(softphone))
               for sink, f in (("agent_mic", agent_wav), ("softphone", customer_wav))]
    for p in players:
        p.wait(timeout=truth.duration_s + 30)
    out, err = proc.communicate(timeout=truth.duration_s + 60)
    assert proc.returncode == 0, err
    assert ann.pending() == 0, err  # sent before `live` exited
    assert team.uuids() == ann.local_uuids() and len(team.uuids()) == 1
    status, role = team.su.execute("SELECT status, agent_role FROM cc.calls").fetchone()
    assert (status, role) == ("complete", ann.role)
    assert "team:" in err

"""Schema version 3 of the team server: the team, live (issue 25).

- **`cc.live_state`**: one row per agent, upserted by the agent's app while it runs
  (companion.team.live_publisher): on call / paused / wrapping up / idle / offline, the call's
  time, talk share, the last prompt and its kind, the customer's mood and since when, the counts of
  prompts and interruptions, the recent prompts' and talk-overs' call times (for the alerts), the
  current checklist step, a raised hand, and — only when the team's policy shares text — the last
  redacted words said. `updated_at` is the server's clock, set by a trigger on every write, so a
  row that has not been written for a while is seen as stale by every reader alike
  (companion.team.live_alerts: "connection lost").
- **`cc.live_messages`**: a supervisor's short text to an agent, and an agent's raised hand (to
  their supervisors). A message is stamped with the agent's current call (its start) from their
  live row, so it stays with the call.
- **Who sees what** is row-level security keyed on `session_user`, the login, as in version 2: an
  agent writes and reads only their own live row, raises only their own hand and reads only the
  messages to them; a supervisor reads the rows and hands of the agents in their team(s)
  (`cc.visible_agents()`) and writes messages only to those agents, as themselves; an admin reads
  everything.
- **Pushed where it matters**: a trigger calls `pg_notify` when a live row starts or its state, prompt
  count, customer's mood, raised hand, the agent's talk-overs or the checklist step change (`cc_live`),
  and on every message or hand (`cc_live_messages`). The call's time, talk share and words are not
  pushed: watchers read every row again every couple of seconds anyway (staleness needs it). In
  PostgreSQL every notification wakes every listening session of the database, whatever its channel,
  so a notification a second for each of 500 agents would wake every watcher 500 times a second. For
  the same reason the agents' apps do not listen: they look for messages as they write.
  LISTEN is not covered by any privilege in PostgreSQL (any member could listen on the channel), so
  the payload says nothing about the agent or the call: only which table (`s` live state, `m`
  message) and the row's opaque id. A watcher reads the row itself, under row-level security; a row
  it may not see is simply not there for it.
"""

from __future__ import annotations

from companion.team.doc_rules import MAX_ITEMS, MAX_SECONDS, NAME_PATTERN

_GROUPS = "('cc_agent', 'cc_supervisor', 'cc_admin')"
_DAY = f"{MAX_SECONDS:g}"
STATES = ("on_call", "paused", "wrapping_up", "idle", "offline")
CHANNEL = "cc_live"                 # a live row was written: watchers listen
MESSAGE_CHANNEL = "cc_live_messages"  # a message or a hand: agents (and watchers) listen
MAX_LIVE_TEXT = 500      # the last words said, redacted (only with share_text)
MAX_MESSAGE = 500        # a supervisor's message, a hand's note
MAX_RECENT = 20          # recent prompts' / talk-overs' call times kept in the row
_STATES = "(" + ", ".join(f"'{s}'" for s in STATES) + ")"

_LIVE_COLUMNS = ("state, call_started_at, call_s, talk_share, last_prompt, last_prompt_kind, last_prompt_reason, "
                 "last_prompt_s, customer_mood, mood_since_s, prompts, interruptions, interruptions_by_agent, "
                 "prompt_times, talkover_times, checklist_step, hand_up, live_text, seq")

V3 = f"""
CREATE TABLE cc.live_state (
  id bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  agent_role text PRIMARY KEY DEFAULT session_user CONSTRAINT live_agent_is_a_person CHECK (agent_role NOT IN {_GROUPS}),
  state text NOT NULL CHECK (state IN {_STATES}),
  call_started_at timestamptz CHECK (call_started_at >= '1970-01-01' AND call_started_at < '2200-01-01'),
  call_s real NOT NULL DEFAULT 0 CHECK (call_s BETWEEN 0 AND {_DAY}),
  talk_share real CHECK (talk_share BETWEEN 0 AND 1),
  last_prompt text CHECK (length(last_prompt) <= 200),
  last_prompt_kind text CHECK (last_prompt_kind ~ '{NAME_PATTERN}'),
  last_prompt_reason text CHECK (length(last_prompt_reason) <= 300),
  last_prompt_s real CHECK (last_prompt_s BETWEEN 0 AND {_DAY}),
  customer_mood text CHECK (customer_mood IN ('calm', 'tense', 'upset')),
  mood_since_s real CHECK (mood_since_s BETWEEN 0 AND {_DAY}),
  prompts integer NOT NULL DEFAULT 0 CHECK (prompts BETWEEN 0 AND {MAX_ITEMS}),
  interruptions integer NOT NULL DEFAULT 0 CHECK (interruptions BETWEEN 0 AND {MAX_ITEMS}),
  interruptions_by_agent integer NOT NULL DEFAULT 0 CHECK (interruptions_by_agent BETWEEN 0 AND {MAX_ITEMS}),
  prompt_times real[] NOT NULL DEFAULT '{{}}'
    CHECK (cardinality(prompt_times) <= {MAX_RECENT} AND array_position(prompt_times, NULL) IS NULL
           AND 0 <= ALL (prompt_times) AND {_DAY} >= ALL (prompt_times)),
  talkover_times real[] NOT NULL DEFAULT '{{}}'
    CHECK (cardinality(talkover_times) <= {MAX_RECENT} AND array_position(talkover_times, NULL) IS NULL
           AND 0 <= ALL (talkover_times) AND {_DAY} >= ALL (talkover_times)),
  checklist_step text CHECK (length(checklist_step) <= 200),
  hand_up boolean NOT NULL DEFAULT false,
  live_text text CHECK (length(live_text) <= {MAX_LIVE_TEXT}),
  seq bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cc.live_messages (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('message', 'hand')),
  from_role text NOT NULL DEFAULT session_user CONSTRAINT live_message_from_a_person CHECK (from_role NOT IN {_GROUPS}),
  to_role text CHECK (to_role NOT IN {_GROUPS}),
  text text CHECK (length(text) BETWEEN 1 AND {MAX_MESSAGE}),
  call_started_at timestamptz,
  at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT live_message_has_an_agent CHECK ((kind = 'message' AND to_role IS NOT NULL AND text IS NOT NULL)
                                              OR (kind = 'hand' AND to_role IS NULL))
);
CREATE INDEX live_messages_to ON cc.live_messages (to_role, id);
CREATE INDEX live_messages_from ON cc.live_messages (from_role, id);

-- every write of a live row: the login, the server's clock, the text only as the policy shares it
CREATE FUNCTION cc.live_before_write() RETURNS trigger LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, cc AS $$
DECLARE shares_text boolean;
BEGIN
  NEW.updated_at := clock_timestamp();
  IF NEW.live_text IS NOT NULL THEN
    SELECT share_text INTO shares_text FROM cc.policy;
    IF NOT coalesce(shares_text, false) THEN NEW.live_text := NULL; END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER live_before_write BEFORE INSERT OR UPDATE ON cc.live_state
  FOR EACH ROW EXECUTE FUNCTION cc.live_before_write();

-- a message goes with the agent's current call; a hand with the agent's own
CREATE FUNCTION cc.live_message_before_write() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, cc AS $$
BEGIN
  NEW.at := clock_timestamp();
  NEW.from_role := session_user;
  NEW.call_started_at := (SELECT l.call_started_at FROM cc.live_state l
                          WHERE l.agent_role = coalesce(NEW.to_role, NEW.from_role) AND l.state <> 'idle'
                            AND l.state <> 'offline');
  RETURN NEW;
END $$;
CREATE TRIGGER live_message_before_write BEFORE INSERT ON cc.live_messages
  FOR EACH ROW EXECUTE FUNCTION cc.live_message_before_write();

-- the push: which table and the row's id, nothing else (LISTEN needs no privilege)
CREATE FUNCTION cc.live_notify() RETURNS trigger LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, cc AS $$
BEGIN
  IF TG_TABLE_NAME = 'live_state' THEN
    PERFORM pg_notify('{CHANNEL}', 's' || NEW.id::text);
  ELSE
    PERFORM pg_notify('{MESSAGE_CHANNEL}', 'm' || NEW.id::text);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER live_state_notify_insert AFTER INSERT ON cc.live_state
  FOR EACH ROW EXECUTE FUNCTION cc.live_notify();
-- only what a supervisor must see at once: the call's time, talk share and words ride on the watchers'
-- periodic read (every listener in the database is woken by every notification, whatever its channel)
CREATE TRIGGER live_state_notify AFTER UPDATE ON cc.live_state
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.prompts IS DISTINCT FROM NEW.prompts
                     OR OLD.customer_mood IS DISTINCT FROM NEW.customer_mood OR OLD.hand_up IS DISTINCT FROM NEW.hand_up
                     OR OLD.interruptions_by_agent IS DISTINCT FROM NEW.interruptions_by_agent
                     OR OLD.checklist_step IS DISTINCT FROM NEW.checklist_step
                     OR OLD.call_started_at IS DISTINCT FROM NEW.call_started_at)
  EXECUTE FUNCTION cc.live_notify();
CREATE TRIGGER live_messages_notify AFTER INSERT ON cc.live_messages
  FOR EACH ROW EXECUTE FUNCTION cc.live_notify();

ALTER TABLE cc.live_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE cc.live_state FORCE ROW LEVEL SECURITY;
CREATE POLICY agent_read ON cc.live_state FOR SELECT TO cc_agent USING (agent_role = session_user::text);
CREATE POLICY agent_insert ON cc.live_state FOR INSERT TO cc_agent
  WITH CHECK (agent_role = session_user::text AND (SELECT cc.my_kind()) = 'agent');
CREATE POLICY agent_update ON cc.live_state FOR UPDATE TO cc_agent USING (agent_role = session_user::text)
  WITH CHECK (agent_role = session_user::text AND (SELECT cc.my_kind()) = 'agent');
CREATE POLICY supervisor_read ON cc.live_state FOR SELECT TO cc_supervisor
  USING ((SELECT cc.visible_agents()) @> ARRAY[agent_role]);
CREATE POLICY admin_read ON cc.live_state FOR SELECT TO cc_admin USING (true);
CREATE POLICY admin_delete ON cc.live_state FOR DELETE TO cc_admin USING (true);

ALTER TABLE cc.live_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE cc.live_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY agent_read ON cc.live_messages FOR SELECT TO cc_agent
  USING (to_role = session_user::text OR from_role = session_user::text);
CREATE POLICY agent_hand ON cc.live_messages FOR INSERT TO cc_agent
  WITH CHECK (kind = 'hand' AND to_role IS NULL AND from_role = session_user::text AND (SELECT cc.my_kind()) = 'agent');
CREATE POLICY supervisor_read ON cc.live_messages FOR SELECT TO cc_supervisor
  USING (from_role = session_user::text OR (SELECT cc.visible_agents()) @> ARRAY[coalesce(to_role, from_role)]);
CREATE POLICY supervisor_message ON cc.live_messages FOR INSERT TO cc_supervisor
  WITH CHECK (kind = 'message' AND from_role = session_user::text AND to_role <> session_user::text AND (SELECT cc.my_kind()) = 'supervisor'
              AND (SELECT cc.visible_agents()) @> ARRAY[to_role]
              AND EXISTS (SELECT 1 FROM cc.members m WHERE m.role = to_role AND m.kind = 'agent'));
CREATE POLICY admin_read ON cc.live_messages FOR SELECT TO cc_admin USING (true);
CREATE POLICY admin_message ON cc.live_messages FOR INSERT TO cc_admin
  WITH CHECK (kind = 'message' AND EXISTS (SELECT 1 FROM cc.members m WHERE m.role = to_role AND m.kind = 'agent'));

REVOKE ALL ON cc.live_state, cc.live_messages FROM PUBLIC;
REVOKE ALL ON FUNCTION cc.live_before_write(), cc.live_message_before_write(), cc.live_notify() FROM PUBLIC;
GRANT SELECT ON cc.live_state, cc.live_messages TO cc_agent, cc_supervisor, cc_admin;
GRANT INSERT ({_LIVE_COLUMNS}), UPDATE ({_LIVE_COLUMNS}) ON cc.live_state TO cc_agent;
GRANT DELETE ON cc.live_state TO cc_admin;
GRANT INSERT (kind, text) ON cc.live_messages TO cc_agent;
GRANT INSERT (kind, to_role, text) ON cc.live_messages TO cc_supervisor, cc_admin;
"""

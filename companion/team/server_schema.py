"""The team server's schema, versioned: migrations as SQL applied in order in one transaction and
recorded in `cc.cc_schema`; `check_version` before anything reads or writes.

Everything lives in the schema `cc`. Who may see what is the database's own job (row-level
security, ENABLED and FORCED, so not even the tables' owner skips it unless a superuser):
- group roles `cc_agent`, `cc_supervisor`, `cc_admin` (NOLOGIN); each person logs in as their own
  role, a member of one group (companion.team.server_admin.add_member);
- an agent reads, inserts and updates only calls whose `agent_role` is themselves (the column
  defaults to current_user and agents may not even name it), and reads the comments on them;
- a supervisor reads the calls of the agents in their team(s) (`cc.visible_agents()`, from
  `team_members`), may change only `reviewed` (a trigger stamps who and when) and may comment only
  on calls they can see, as themselves;
- an admin reads everything and manages teams, members and the policy.
The weekly rollup is a materialised view (no row-level security of its own), read through the
view `cc.weekly`, which shows each role the agents it may see.

Version 2 (companion.team.server_schema_v2) keys every rule on `session_user`, the login, so `SET
ROLE` into a group gains nothing; checks and strips call documents on the server (the rules of
companion.team.doc_rules); bounds the row's numbers and comments' times; and repairs what a version-1
server may hold. Below, v1 as it was first applied ("current_user" there is replaced by v2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from companion.team.errors import TeamError
from companion.team.server_rows import one
from companion.team.server_schema_v2 import V2
from companion.team.server_schema_v3 import V3

if TYPE_CHECKING:
    from psycopg import Connection

SCHEMA_VERSION = 3
GROUPS = ("cc_agent", "cc_supervisor", "cc_admin")

_AGENT_COLUMNS = ("started_at, duration_s, status, source, playbook, pace_source, agent_wpm, agent_talk_ratio, "
                  "longest_agent_monologue_s, prompts, prompt_counts, interruptions, interruptions_by_agent, "
                  "customer_mood, upset_s, doc, transcript")

_V1_TABLES = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_agent') THEN CREATE ROLE cc_agent NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_supervisor') THEN CREATE ROLE cc_supervisor NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_admin') THEN CREATE ROLE cc_admin NOLOGIN; END IF;
END $$;

CREATE TABLE cc.teams (name text PRIMARY KEY CHECK (name <> ''));
CREATE TABLE cc.members (
  role text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('agent', 'supervisor', 'admin')),
  display_name text,
  added_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE TABLE cc.team_members (
  role text NOT NULL REFERENCES cc.members (role) ON DELETE CASCADE,
  team text NOT NULL REFERENCES cc.teams (name) ON DELETE CASCADE,
  PRIMARY KEY (role, team)
);
CREATE INDEX team_members_team ON cc.team_members (team, role);
CREATE TABLE cc.policy (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  share_text boolean NOT NULL DEFAULT false,
  share_audio boolean NOT NULL DEFAULT false,
  changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO cc.policy DEFAULT VALUES;

CREATE TABLE cc.calls (
  uuid uuid PRIMARY KEY,
  agent_role text NOT NULL DEFAULT current_user,
  team text,
  started_at timestamptz NOT NULL,
  duration_s double precision NOT NULL DEFAULT 0 CHECK (duration_s >= 0),
  status text NOT NULL CHECK (status IN ('complete', 'interrupted')),
  source text,
  playbook text,
  pace_source text,
  agent_wpm real,
  agent_talk_ratio real,
  longest_agent_monologue_s real,
  prompts integer NOT NULL DEFAULT 0,
  prompt_counts jsonb NOT NULL DEFAULT '{}',
  interruptions integer NOT NULL DEFAULT 0,
  interruptions_by_agent integer NOT NULL DEFAULT 0,
  customer_mood text CHECK (customer_mood IN ('calm', 'tense', 'upset')),
  upset_s real,
  doc jsonb NOT NULL,
  transcript text,
  tsv tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, coalesce(transcript, ''))) STORED,
  received_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  reviewed boolean NOT NULL DEFAULT false,
  reviewed_by text,
  reviewed_at timestamptz
);
-- the supervisor's list: row-level security narrows to the team's agents through this index
CREATE INDEX calls_agent_started ON cc.calls (agent_role, started_at DESC);
CREATE INDEX calls_team_started ON cc.calls (team, started_at DESC);
CREATE INDEX calls_started ON cc.calls (started_at DESC);
CREATE INDEX calls_interrupted ON cc.calls (agent_role, started_at DESC) WHERE status = 'interrupted';
CREATE INDEX calls_unreviewed ON cc.calls (agent_role, started_at DESC) WHERE NOT reviewed;
CREATE INDEX calls_reviewed_at ON cc.calls (agent_role, reviewed_at) WHERE reviewed_at IS NOT NULL;
CREATE INDEX calls_prompt_kinds ON cc.calls USING gin (prompt_counts);
-- words per agent: a search among a team's calls walks each agent's posting lists, never the
-- whole server's list for a common word (btree_gin: a GIN index on the text column too)
CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA cc;
CREATE INDEX calls_agent_tsv ON cc.calls USING gin (agent_role, tsv);

CREATE TABLE cc.call_audio (
  uuid uuid PRIMARY KEY REFERENCES cc.calls (uuid) ON DELETE CASCADE,
  flac bytea NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE cc.call_audio ALTER COLUMN flac SET STORAGE EXTERNAL;  -- FLAC is compressed already

CREATE TABLE cc.comments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  call_uuid uuid NOT NULL REFERENCES cc.calls (uuid) ON DELETE CASCADE,
  author_role text NOT NULL DEFAULT current_user,
  t real,
  at timestamptz NOT NULL DEFAULT now(),
  text text NOT NULL CHECK (text <> '')
);
CREATE INDEX comments_call ON cc.comments (call_uuid, at);

-- whose calls the caller may see: themselves and, for a supervisor, everyone in the teams they are
-- in (an agent sees only their own team_members rows, so only themselves). The policies call it
-- once per query as an InitPlan and test it with @>, which no index can use: the planner then
-- keeps the per-agent newest-first index scans list_calls asks for (`agent_role = ANY (...)`
-- would become the index condition and turn every list into a sort of the whole team's calls).
CREATE FUNCTION cc.visible_agents() RETURNS text[] LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, cc AS $$
  SELECT array_agg(DISTINCT who) FROM (
    SELECT b.role FROM cc.team_members a JOIN cc.team_members b ON b.team = a.team WHERE a.role = current_user::text
    UNION ALL SELECT current_user::text) s(who)
$$;

-- every write of a call: the agent's team on first upload, the received and review stamps, and the
-- server's text policy (the client strips text too; this is the second lock on the same door)
CREATE FUNCTION cc.calls_before_write() RETURNS trigger LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, cc AS $$
DECLARE shares_text boolean;
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.received_at := now();
    NEW.updated_at := now();
    IF NEW.team IS NULL THEN
      NEW.team := (SELECT min(team) FROM cc.team_members WHERE role = NEW.agent_role);
    END IF;
    IF NEW.reviewed THEN NEW.reviewed_by := current_user; NEW.reviewed_at := now(); END IF;
  ELSE
    NEW.received_at := OLD.received_at;
    IF NEW.reviewed IS DISTINCT FROM OLD.reviewed THEN
      NEW.reviewed_by := current_user;
      NEW.reviewed_at := now();
    END IF;
    IF NEW.doc IS DISTINCT FROM OLD.doc OR NEW.transcript IS DISTINCT FROM OLD.transcript THEN
      NEW.updated_at := now();
    END IF;
  END IF;
  IF TG_OP = 'INSERT' OR NEW.doc IS DISTINCT FROM OLD.doc OR NEW.transcript IS DISTINCT FROM OLD.transcript THEN
    SELECT share_text INTO shares_text FROM cc.policy;
    IF NOT coalesce(shares_text, false) THEN
      NEW.transcript := NULL;
      NEW.doc := jsonb_set(jsonb_set(NEW.doc, '{segments}', '[]'::jsonb), '{root_cause}', 'null'::jsonb);
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER calls_before_write BEFORE INSERT OR UPDATE ON cc.calls
  FOR EACH ROW EXECUTE FUNCTION cc.calls_before_write();

-- per agent (and the team the calls were taken in) per ISO week (Monday, UTC)
CREATE MATERIALIZED VIEW cc.weekly_rollup AS
WITH per_call AS (
  SELECT agent_role, coalesce(team, '') AS team, (date_trunc('week', started_at AT TIME ZONE 'UTC'))::date AS week,
         prompts, prompt_counts, interruptions_by_agent, agent_wpm, agent_talk_ratio, duration_s, reviewed,
         customer_mood
  FROM cc.calls
), kinds AS (
  SELECT agent_role, team, week, jsonb_object_agg(key, n) AS prompts_by_kind
  FROM (SELECT p.agent_role, p.team, p.week, k.key, sum(k.value::int) AS n
        FROM per_call p, jsonb_each_text(p.prompt_counts) AS k GROUP BY 1, 2, 3, 4) s
  GROUP BY 1, 2, 3
)
SELECT p.agent_role, p.team, p.week,
       count(*)::int AS calls,
       sum(p.prompts)::int AS prompts,
       coalesce(k.prompts_by_kind, '{}'::jsonb) AS prompts_by_kind,
       sum(p.interruptions_by_agent)::int AS interruptions_by_agent,
       avg(p.agent_wpm)::real AS avg_wpm,
       avg(p.agent_talk_ratio)::real AS avg_talk_ratio,
       sum(p.duration_s)::real AS call_s,
       (count(*) FILTER (WHERE p.reviewed))::int AS calls_reviewed,
       (count(*) FILTER (WHERE p.customer_mood = 'upset'))::int AS upset_calls
FROM per_call p LEFT JOIN kinds k USING (agent_role, team, week)
GROUP BY p.agent_role, p.team, p.week, k.prompts_by_kind;
CREATE UNIQUE INDEX weekly_rollup_key ON cc.weekly_rollup (agent_role, team, week);
CREATE INDEX weekly_rollup_week ON cc.weekly_rollup (week);
CREATE TABLE cc.rollup_state (id boolean PRIMARY KEY DEFAULT true CHECK (id), refreshed_at timestamptz);
INSERT INTO cc.rollup_state VALUES (true, now());

CREATE VIEW cc.weekly WITH (security_barrier) AS
  SELECT r.* FROM cc.weekly_rollup r
  WHERE (SELECT pg_has_role('cc_admin', 'USAGE'))
     OR r.agent_role = ANY ((SELECT cc.visible_agents())::text[]);

-- full-text search that can use the GIN index: under row-level security a non-leakproof operator
-- such as @@ may only filter rows the policy already let through, so a supervisor's search would read
-- every tsvector of the team. This function runs as the owner and narrows to the caller's calls
-- itself (the caller is session_user, the login: SET ROLE cannot widen it); list_calls joins what it
-- returns back to cc.calls, where the policies apply again. It searches agent by agent and ranks
-- the newest `p_newest` matches that pass the filters (ranking reads every match's tsvector: a
-- word said on most calls would otherwise cost a read of all of them).
CREATE FUNCTION cc.text_matches(p_words text, p_since timestamptz DEFAULT NULL, p_until timestamptz DEFAULT NULL,
  p_agent text DEFAULT NULL, p_team text DEFAULT NULL, p_kind text DEFAULT NULL, p_interrupted boolean DEFAULT NULL,
  p_reviewed boolean DEFAULT NULL, p_newest integer DEFAULT 1000)
RETURNS TABLE (call_uuid uuid, rank real)
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 200 SET search_path = pg_catalog, cc AS $$
DECLARE
  who name := session_user;
  agents text[];
  cond text := 'c.tsv @@ $1';
  sql text;
BEGIN
  IF NOT pg_has_role(who, 'cc_admin', 'USAGE') THEN
    IF pg_has_role(who, 'cc_supervisor', 'USAGE') THEN
      SELECT coalesce(array_agg(DISTINCT b.role), '{}') INTO agents
      FROM cc.team_members a JOIN cc.team_members b ON b.team = a.team WHERE a.role = who::text;
    ELSIF pg_has_role(who, 'cc_agent', 'USAGE') THEN
      agents := ARRAY[who::text];
    ELSE
      RETURN;
    END IF;
  END IF;
  IF p_since IS NOT NULL THEN cond := cond || ' AND c.started_at >= $3'; END IF;
  IF p_until IS NOT NULL THEN cond := cond || ' AND c.started_at < $4'; END IF;
  IF p_agent IS NOT NULL THEN cond := cond || ' AND c.agent_role = $5'; END IF;
  IF p_team IS NOT NULL THEN cond := cond || ' AND c.team = $6'; END IF;
  IF p_kind IS NOT NULL THEN cond := cond || ' AND c.prompt_counts ? $7'; END IF;
  IF p_interrupted IS NOT NULL THEN
    cond := cond || CASE WHEN p_interrupted THEN ' AND c.status = ''interrupted'''
                         ELSE ' AND c.status = ''complete''' END;
  END IF;
  IF p_reviewed IS NOT NULL THEN
    cond := cond || CASE WHEN p_reviewed THEN ' AND c.reviewed' ELSE ' AND NOT c.reviewed' END;
  END IF;
  IF agents IS NULL THEN
    sql := 'SELECT c.uuid, c.tsv FROM cc.calls c WHERE ' || cond || ' ORDER BY c.started_at DESC LIMIT $8';
  ELSE  -- agent by agent (calls_agent_tsv), the newest of each, then the newest of all
    sql := 'SELECT c.uuid, c.tsv FROM unnest($2) a(role) CROSS JOIN LATERAL (SELECT c.uuid, c.tsv, c.started_at '
      || 'FROM cc.calls c WHERE c.agent_role = a.role AND ' || cond || ' ORDER BY c.started_at DESC LIMIT $8) c '
      || 'ORDER BY c.started_at DESC LIMIT $8';
  END IF;
  RETURN QUERY EXECUTE 'SELECT m.uuid, ts_rank(m.tsv, $1) FROM (' || sql || ') m'
    USING websearch_to_tsquery('english', p_words), agents, p_since, p_until, p_agent, p_team, p_kind,
          greatest(1, least(coalesce(p_newest, 1000), 10000));
END $$;

-- run as the view's owner (REFRESH needs it), by supervisors and admins, or by cron
CREATE FUNCTION cc.refresh_rollup() RETURNS timestamptz LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, cc AS $$
BEGIN
  REFRESH MATERIALIZED VIEW CONCURRENTLY cc.weekly_rollup;
  UPDATE cc.rollup_state SET refreshed_at = now();
  RETURN now();
END $$;
"""

_V1_SECURITY = f"""
ALTER TABLE cc.calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE cc.calls FORCE ROW LEVEL SECURITY;
CREATE POLICY agent_read ON cc.calls FOR SELECT TO cc_agent USING (agent_role = current_user::text);
CREATE POLICY agent_insert ON cc.calls FOR INSERT TO cc_agent WITH CHECK (agent_role = current_user::text);
CREATE POLICY agent_update ON cc.calls FOR UPDATE TO cc_agent
  USING (agent_role = current_user::text) WITH CHECK (agent_role = current_user::text);
CREATE POLICY supervisor_read ON cc.calls FOR SELECT TO cc_supervisor
  USING ((SELECT cc.visible_agents()) @> ARRAY[agent_role]);
CREATE POLICY supervisor_review ON cc.calls FOR UPDATE TO cc_supervisor
  USING ((SELECT cc.visible_agents()) @> ARRAY[agent_role])
  WITH CHECK ((SELECT cc.visible_agents()) @> ARRAY[agent_role]);
CREATE POLICY admin_all ON cc.calls FOR ALL TO cc_admin USING (true) WITH CHECK (true);

ALTER TABLE cc.call_audio ENABLE ROW LEVEL SECURITY;
ALTER TABLE cc.call_audio FORCE ROW LEVEL SECURITY;
CREATE POLICY agent_read ON cc.call_audio FOR SELECT TO cc_agent USING (EXISTS (
  SELECT 1 FROM cc.calls c WHERE c.uuid = call_audio.uuid AND c.agent_role = current_user::text));
CREATE POLICY agent_insert ON cc.call_audio FOR INSERT TO cc_agent WITH CHECK (
  (SELECT share_audio FROM cc.policy) AND EXISTS (
  SELECT 1 FROM cc.calls c WHERE c.uuid = call_audio.uuid AND c.agent_role = current_user::text));
CREATE POLICY agent_update ON cc.call_audio FOR UPDATE TO cc_agent USING (EXISTS (
  SELECT 1 FROM cc.calls c WHERE c.uuid = call_audio.uuid AND c.agent_role = current_user::text))
  WITH CHECK ((SELECT share_audio FROM cc.policy) AND EXISTS (
  SELECT 1 FROM cc.calls c WHERE c.uuid = call_audio.uuid AND c.agent_role = current_user::text));
CREATE POLICY supervisor_read ON cc.call_audio FOR SELECT TO cc_supervisor USING (EXISTS (
  SELECT 1 FROM cc.calls c WHERE c.uuid = call_audio.uuid));
CREATE POLICY admin_all ON cc.call_audio FOR ALL TO cc_admin USING (true) WITH CHECK (true);

ALTER TABLE cc.comments ENABLE ROW LEVEL SECURITY;
ALTER TABLE cc.comments FORCE ROW LEVEL SECURITY;
CREATE POLICY agent_read ON cc.comments FOR SELECT TO cc_agent USING (EXISTS (
  SELECT 1 FROM cc.calls c WHERE c.uuid = comments.call_uuid AND c.agent_role = current_user::text));
CREATE POLICY supervisor_read ON cc.comments FOR SELECT TO cc_supervisor USING (EXISTS (
  SELECT 1 FROM cc.calls c WHERE c.uuid = comments.call_uuid));
CREATE POLICY supervisor_write ON cc.comments FOR INSERT TO cc_supervisor WITH CHECK (
  author_role = current_user::text AND EXISTS (SELECT 1 FROM cc.calls c WHERE c.uuid = comments.call_uuid));
CREATE POLICY admin_all ON cc.comments FOR ALL TO cc_admin USING (true) WITH CHECK (author_role = current_user::text);

ALTER TABLE cc.members ENABLE ROW LEVEL SECURITY;
ALTER TABLE cc.members FORCE ROW LEVEL SECURITY;
CREATE POLICY own_row ON cc.members FOR SELECT TO cc_agent USING (role = current_user::text);
CREATE POLICY everyone ON cc.members FOR SELECT TO cc_supervisor USING (true);
CREATE POLICY admin_all ON cc.members FOR ALL TO cc_admin USING (true) WITH CHECK (true);
ALTER TABLE cc.team_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE cc.team_members FORCE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON cc.team_members FOR SELECT TO cc_agent USING (role = current_user::text);
CREATE POLICY everyone ON cc.team_members FOR SELECT TO cc_supervisor USING (true);
CREATE POLICY admin_all ON cc.team_members FOR ALL TO cc_admin USING (true) WITH CHECK (true);

-- least privilege: nothing for PUBLIC; each group gets what its screens need, column by column
REVOKE ALL ON SCHEMA cc FROM PUBLIC;
GRANT USAGE ON SCHEMA cc TO cc_agent, cc_supervisor, cc_admin;
REVOKE ALL ON ALL TABLES IN SCHEMA cc FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA cc FROM PUBLIC;
GRANT SELECT ON cc.cc_schema, cc.policy, cc.teams, cc.members, cc.team_members, cc.rollup_state
  TO cc_agent, cc_supervisor, cc_admin;
GRANT INSERT, UPDATE, DELETE ON cc.teams, cc.members, cc.team_members TO cc_admin;
GRANT UPDATE (share_text, share_audio, changed_at) ON cc.policy TO cc_admin;
GRANT SELECT ON cc.calls, cc.call_audio, cc.comments, cc.weekly TO cc_agent, cc_supervisor, cc_admin;
GRANT INSERT (uuid, {_AGENT_COLUMNS}) ON cc.calls TO cc_agent;
GRANT UPDATE ({_AGENT_COLUMNS}) ON cc.calls TO cc_agent;
GRANT UPDATE (reviewed) ON cc.calls TO cc_supervisor, cc_admin;
GRANT DELETE ON cc.calls TO cc_admin;
GRANT INSERT (uuid, flac), UPDATE (flac) ON cc.call_audio TO cc_agent;
GRANT DELETE ON cc.call_audio TO cc_admin;
GRANT INSERT (call_uuid, t, text) ON cc.comments TO cc_supervisor, cc_admin;
GRANT DELETE ON cc.comments TO cc_admin;
GRANT EXECUTE ON FUNCTION cc.visible_agents() TO cc_agent, cc_supervisor, cc_admin;
GRANT EXECUTE ON FUNCTION cc.refresh_rollup() TO cc_supervisor, cc_admin;
GRANT EXECUTE ON FUNCTION cc.text_matches(text, timestamptz, timestamptz, text, text, text, boolean, boolean, integer)
  TO cc_agent, cc_supervisor, cc_admin;
"""

# (version, SQL): applied in order, each once; a new version appends here and bumps SCHEMA_VERSION
MIGRATIONS: tuple[tuple[int, str], ...] = ((1, _V1_TABLES + _V1_SECURITY), (2, V2), (3, V3))

_LOCK = "SELECT pg_advisory_xact_lock(hashtext('call-companion team schema'))"
_HAS_TABLE = ("SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
              "WHERE n.nspname = 'cc' AND c.relname = 'cc_schema')")


def server_version(conn: Connection[Any]) -> int | None:
    """The server's schema version; None when it has no Call Companion schema at all."""
    if not one(conn.execute(_HAS_TABLE))[0]:
        return None
    return int(one(conn.execute("SELECT coalesce(max(version), 0) FROM cc.cc_schema"))[0])


def check_version(conn: Connection[Any], known: int = SCHEMA_VERSION) -> int:
    """The server's version when it is the one this app knows; otherwise TeamError, and the caller
    writes nothing."""
    from companion.team.server_errors import team_errors

    with team_errors("reading the team server's schema version"):
        found = server_version(conn)
    if found is None:
        raise TeamError("The team server has no Call Companion schema yet — ask your admin to run "
                        "`companion team init`. Nothing was sent.")
    if found > known:
        raise TeamError(f"The team server's schema is version {found}; this app knows version {known} — "
                        "update Call Companion. Nothing was sent.")
    if found < known:
        raise TeamError(f"The team server's schema is version {found}; this app needs version {known} — "
                        "ask your admin to run `companion team init`. Nothing was sent.")
    return found


def migrate(conn: Connection[Any], migrations: tuple[tuple[int, str], ...] = MIGRATIONS) -> int:
    """Bring the server's schema up to the newest of `migrations`, in one transaction (all or
    nothing), one migrator at a time; returns the version. A newer schema is left alone: TeamError."""
    newest = max(version for version, _ in migrations)
    with conn.transaction():
        conn.execute(_LOCK)
        conn.execute("CREATE SCHEMA IF NOT EXISTS cc")
        conn.execute("CREATE TABLE IF NOT EXISTS cc.cc_schema "
                     "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        current = one(conn.execute("SELECT coalesce(max(version), 0) FROM cc.cc_schema"))[0]
        if current > newest:
            raise TeamError(f"The team server's schema is version {current}; this app knows version {newest} — "
                            "update Call Companion before running init. Nothing was changed.")
        for version, sql in sorted(migrations):
            if version > current:
                conn.execute(sql)
                conn.execute("INSERT INTO cc.cc_schema (version) VALUES (%s)", (version,))
    return newest

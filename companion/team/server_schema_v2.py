"""Schema version 2 of the team server: its rules kept by the server itself, for any client.

- **Who you are is your login.** Every policy, default and stamp uses `session_user`, which `SET
  ROLE` cannot change: a member who sets their role to a group (`SET ROLE cc_agent`) is still
  themselves, and no row can be written under a group's name (PostgreSQL 15 cannot forbid `SET
  ROLE` into a group one is a member of; 16's `GRANT … WITH SET FALSE` can, but the policies make
  it harmless on both). An agent writes calls only in a database where they are a member.
- **The call document is checked and stripped on the server** (a trigger on `cc.calls`, with the
  rules of companion.team.doc_rules in the table `cc.call_doc_fields`): keys the rules do not
  list are dropped, text only when the policy shares it, and a value of the wrong type or out of
  range (a list that is not one, a time that is not a finite number within a day, a list of more
  than 200,000 entries, a document over 64 MB) refuses the call with one line saying which. The
  figures derived from the document (prompts per kind, interruptions, the searchable transcript)
  are computed from it by the server, not taken from the client.
- **The row's numbers are within bounds** (CHECK constraints): a call lasts 0 to 24 hours, its
  pace 0 to 1000 words a minute, its talk share 0 to 1, its start between 1970 and 2200.
- **A comment's time is finite and within its call** (0 to the call's duration).

The upgrade from version 1 repairs what a version-1 server may hold (with the call trigger off):
rows written under a group role's name are removed (only `SET ROLE` into a group could write
them), numbers out of bounds are clamped or emptied, derived counts that would break the weekly
rollup are recomputed from the document, comments' times that are not finite or within a day are
cleared (the comment stays, on the whole call); then the rollup is refreshed.
"""

from __future__ import annotations

from companion.team.doc_rules import ITEMS, MAX_DOC_BYTES, MAX_ITEMS, MAX_SECONDS, MAX_WPM, NAME_PATTERN, TOP, Field

_GROUPS = "('cc_agent', 'cc_supervisor', 'cc_admin')"
_DAY = f"{MAX_SECONDS:g}"


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return ("ARRAY[" + ", ".join(_literal(v) for v in value) + "]::text[]") if value else "NULL"
    return "'" + str(value).replace("'", "''") + "'"


def fields_sql() -> str:
    """The rules of companion.team.doc_rules as rows of `cc.call_doc_fields` (list '' is the document)."""
    rows = [("", key, f) for key, f in TOP.items()]
    rows += [(name, key, f) for name, spec in ITEMS.items() for key, f in spec.items()]

    def row(list_name: str, key: str, f: Field) -> str:
        return "(" + ", ".join(_literal(v) for v in (list_name, key, f.kind, f.lo, f.hi, f.choices)) + ")"

    return ("INSERT INTO cc.call_doc_fields (list, key, kind, lo, hi, choices) VALUES\n  "
            + ",\n  ".join(row(*r) for r in rows) + ";\n")


_FUNCTIONS = f"""
CREATE TABLE cc.call_doc_fields (
  list text NOT NULL,
  key text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('number', 'text', 'name', 'choice', 'boolean', 'list')),
  lo numeric, hi numeric, choices text[],
  PRIMARY KEY (list, key)
);
{fields_sql()}
-- whether one JSON value fits a rule (every value may be null). No SET search_path here or in
-- doc_rule, so the planner inlines them (checking runs several times faster): their callers pin it
CREATE FUNCTION cc.doc_value_ok(v jsonb, kind text, lo numeric, hi numeric, choices text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE jsonb_typeof(v)
    WHEN 'null' THEN true
    WHEN 'number' THEN kind = 'number' AND v::numeric BETWEEN lo AND hi
    WHEN 'string' THEN CASE kind
      WHEN 'text' THEN length(v #>> '{{}}') <= hi
      WHEN 'name' THEN length(v #>> '{{}}') <= hi AND (v #>> '{{}}') ~ '{NAME_PATTERN}'
      WHEN 'choice' THEN (v #>> '{{}}') = ANY (choices)
      ELSE false END
    WHEN 'boolean' THEN kind = 'boolean'
    WHEN 'array' THEN kind = 'list' AND jsonb_array_length(v) <= hi
    ELSE false END
$$;

CREATE FUNCTION cc.doc_rule(kind text, lo numeric, hi numeric, choices text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE kind
    WHEN 'number' THEN format('a number from %s to %s', lo, hi)
    WHEN 'text' THEN format('text of at most %s characters', hi)
    WHEN 'name' THEN format('a name of at most %s lowercase letters, digits and _', hi)
    WHEN 'choice' THEN 'one of ' || array_to_string(choices, ', ')
    WHEN 'boolean' THEN 'true or false'
    ELSE format('a list of at most %s objects', hi) END || ' (or null)'
$$;

-- the document with only the keys the rules list (in the lists' entries too), and without the
-- text the policy does not share; anything else is left for cc.call_doc_problem to refuse
CREATE FUNCTION cc.call_doc_shared(doc jsonb, shares_text boolean) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, cc AS $$
  SELECT CASE WHEN jsonb_typeof(doc) IS DISTINCT FROM 'object' THEN doc ELSE (
    SELECT coalesce(jsonb_object_agg(f.key, CASE
        WHEN NOT shares_text AND f.key = 'segments' THEN '[]'::jsonb
        WHEN NOT shares_text AND f.key = 'root_cause' THEN 'null'::jsonb
        WHEN s.kind = 'list' AND jsonb_typeof(f.value) = 'array' THEN (
          SELECT coalesce(jsonb_agg(CASE WHEN jsonb_typeof(e.item) = 'object' THEN (
                   SELECT coalesce(jsonb_object_agg(k.key, k.value), '{{}}'::jsonb) FROM jsonb_each(e.item) k
                   WHERE k.key = ANY (ks.keys))
                 ELSE e.item END ORDER BY e.n), '[]'::jsonb)
          FROM jsonb_array_elements(f.value) WITH ORDINALITY e(item, n))
        ELSE f.value END), '{{}}'::jsonb)
      || CASE WHEN shares_text THEN '{{}}'::jsonb ELSE '{{"segments": [], "root_cause": null}}'::jsonb END
    FROM jsonb_each(doc) f
    JOIN cc.call_doc_fields s ON s.list = '' AND s.key = f.key
    LEFT JOIN LATERAL (SELECT array_agg(i.key) AS keys FROM cc.call_doc_fields i WHERE i.list = f.key) ks ON true)
  END
$$;

-- NULL when the document follows the rules, else what is wrong with it ("turns[3].start must be …")
CREATE FUNCTION cc.call_doc_problem(doc jsonb) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, cc AS $$
DECLARE problem text;
BEGIN
  IF jsonb_typeof(doc) IS DISTINCT FROM 'object' THEN
    RETURN 'must be an object';
  END IF;
  IF octet_length(doc::text) > {MAX_DOC_BYTES} THEN
    RETURN 'is larger than {MAX_DOC_BYTES // (1024 * 1024)} MB';
  END IF;
  SELECT format('%s must be %s', f.key, cc.doc_rule(s.kind, s.lo, s.hi, s.choices)) INTO problem
  FROM jsonb_each(doc) f JOIN cc.call_doc_fields s ON s.list = '' AND s.key = f.key
  WHERE NOT cc.doc_value_ok(f.value, s.kind, s.lo, s.hi, s.choices) LIMIT 1;
  IF problem IS NOT NULL THEN
    RETURN problem;
  END IF;
  SELECT format('%s[%s] must be an object', l.key, e.n - 1) INTO problem
  FROM cc.call_doc_fields l
  CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(doc -> l.key) = 'array' THEN doc -> l.key
                                          ELSE '[]'::jsonb END) WITH ORDINALITY e(item, n)
  WHERE l.list = '' AND l.kind = 'list' AND jsonb_typeof(e.item) <> 'object' LIMIT 1;
  IF problem IS NOT NULL THEN
    RETURN problem;
  END IF;
  SELECT format('%s[%s].%s must be %s', l.key, e.n - 1, f.key, cc.doc_rule(s.kind, s.lo, s.hi, s.choices))
  INTO problem
  FROM cc.call_doc_fields l
  CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(doc -> l.key) = 'array' THEN doc -> l.key
                                          ELSE '[]'::jsonb END) WITH ORDINALITY e(item, n)
  CROSS JOIN LATERAL jsonb_each(e.item) f
  JOIN cc.call_doc_fields s ON s.list = l.key AND s.key = f.key
  WHERE l.list = '' AND l.kind = 'list' AND NOT cc.doc_value_ok(f.value, s.kind, s.lo, s.hi, s.choices) LIMIT 1;
  RETURN problem;
END $$;

-- the figures the list and the rollup read, from the document (whatever it holds)
CREATE FUNCTION cc.call_doc_counts(doc jsonb, OUT prompts integer, OUT prompt_counts jsonb,
                                   OUT interruptions integer, OUT interruptions_by_agent integer)
LANGUAGE sql STABLE SET search_path = pg_catalog, cc AS $$
  WITH p AS (
    SELECT e FROM jsonb_array_elements(CASE WHEN jsonb_typeof(doc -> 'prompts') = 'array' THEN doc -> 'prompts'
                                       ELSE '[]'::jsonb END) e
    WHERE jsonb_typeof(e) = 'object'
  ), i AS (
    SELECT e FROM jsonb_array_elements(CASE WHEN jsonb_typeof(doc -> 'interruptions') = 'array'
                                       THEN doc -> 'interruptions' ELSE '[]'::jsonb END) e
    WHERE jsonb_typeof(e) = 'object'
  )
  SELECT (SELECT count(*)::int FROM p),
         (SELECT coalesce(jsonb_object_agg(kind, n), '{{}}'::jsonb) FROM (
            SELECT e ->> 'kind' AS kind, count(*)::int AS n FROM p
            WHERE jsonb_typeof(e -> 'kind') = 'string' AND (e ->> 'kind') ~ '{NAME_PATTERN}' GROUP BY 1) k),
         (SELECT count(*)::int FROM i),
         (SELECT count(*)::int FROM i WHERE e ->> 'by' = 'agent')
$$;

CREATE FUNCTION cc.prompt_counts_ok(counts jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, cc AS $$
  SELECT jsonb_typeof(counts) = 'object' AND NOT EXISTS (
    SELECT 1 FROM jsonb_each(CASE WHEN jsonb_typeof(counts) = 'object' THEN counts ELSE '{{}}'::jsonb END) k
    WHERE NOT (k.key ~ '{NAME_PATTERN}' AND CASE WHEN jsonb_typeof(k.value) = 'number'
               THEN k.value::numeric BETWEEN 1 AND {MAX_ITEMS} AND k.value::numeric % 1 = 0 ELSE false END))
$$;

-- the caller's kind in this database's team (agent, supervisor, admin), NULL when not a member
CREATE FUNCTION cc.my_kind() RETURNS text LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, cc AS $$
  SELECT kind FROM cc.members WHERE role = session_user::text AND revoked_at IS NULL
$$;

CREATE OR REPLACE FUNCTION cc.visible_agents() RETURNS text[] LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, cc AS $$
  SELECT array_agg(DISTINCT who) FROM (
    SELECT b.role FROM cc.team_members a JOIN cc.team_members b ON b.team = a.team WHERE a.role = session_user::text
    UNION ALL SELECT session_user::text) s(who)
$$;

-- every write of a call: the stamps (as v1, by the login), then on every new or changed document
-- the policy and the rules, and the figures derived from it
CREATE OR REPLACE FUNCTION cc.calls_before_write() RETURNS trigger LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, cc AS $$
DECLARE
  shares_text boolean;
  problem text;
  counts record;
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.received_at := now();
    NEW.updated_at := now();
    IF NEW.team IS NULL THEN
      NEW.team := (SELECT min(team) FROM cc.team_members WHERE role = NEW.agent_role);
    END IF;
    IF NEW.reviewed THEN NEW.reviewed_by := session_user; NEW.reviewed_at := now(); END IF;
  ELSE
    NEW.received_at := OLD.received_at;
    IF NEW.reviewed IS DISTINCT FROM OLD.reviewed THEN
      NEW.reviewed_by := session_user;
      NEW.reviewed_at := now();
    END IF;
    IF NEW.doc IS DISTINCT FROM OLD.doc OR NEW.transcript IS DISTINCT FROM OLD.transcript THEN
      NEW.updated_at := now();
    END IF;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.doc IS NOT DISTINCT FROM OLD.doc THEN
    -- the document did not change: nor do the figures and the text made from it
    NEW.prompts := OLD.prompts;
    NEW.prompt_counts := OLD.prompt_counts;
    NEW.interruptions := OLD.interruptions;
    NEW.interruptions_by_agent := OLD.interruptions_by_agent;
    NEW.transcript := OLD.transcript;
    RETURN NEW;
  END IF;
  SELECT share_text INTO shares_text FROM cc.policy;
  shares_text := coalesce(shares_text, false);
  NEW.doc := cc.call_doc_shared(NEW.doc, shares_text);
  problem := cc.call_doc_problem(NEW.doc);
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = 'the call document''s ' || problem;
  END IF;
  SELECT * INTO counts FROM cc.call_doc_counts(NEW.doc);
  NEW.prompts := counts.prompts;
  NEW.prompt_counts := counts.prompt_counts;
  NEW.interruptions := counts.interruptions;
  NEW.interruptions_by_agent := counts.interruptions_by_agent;
  NEW.transcript := CASE WHEN shares_text AND jsonb_typeof(NEW.doc -> 'segments') = 'array' THEN (
    SELECT string_agg(e.item ->> 'text', E'\\n' ORDER BY e.n) FROM jsonb_array_elements(NEW.doc -> 'segments')
      WITH ORDINALITY e(item, n) WHERE coalesce(e.item ->> 'text', '') <> '') END;
  RETURN NEW;
END $$;

-- a comment's time: within the call it is on (when the author can see it; if not, the policy refuses)
CREATE FUNCTION cc.comments_before_write() RETURNS trigger LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, cc AS $$
DECLARE call_s double precision;
BEGIN
  IF NEW.t IS NOT NULL THEN
    SELECT duration_s INTO call_s FROM cc.calls WHERE uuid = NEW.call_uuid;
    IF FOUND AND NOT (NEW.t >= 0 AND NEW.t <= call_s::real) THEN
      RAISE EXCEPTION USING ERRCODE = 'check_violation',
        MESSAGE = format('a comment''s time must be within the call, from 0 to %s s', round(call_s::numeric, 1));
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER comments_before_write BEFORE INSERT OR UPDATE ON cc.comments
  FOR EACH ROW EXECUTE FUNCTION cc.comments_before_write();
"""

_REPAIR = f"""
-- what a version-1 server may hold that version 2 refuses (the owner sees every row meanwhile)
ALTER TABLE cc.calls NO FORCE ROW LEVEL SECURITY;
ALTER TABLE cc.comments NO FORCE ROW LEVEL SECURITY;
ALTER TABLE cc.calls DISABLE TRIGGER calls_before_write;
DELETE FROM cc.comments WHERE author_role IN {_GROUPS};
DELETE FROM cc.calls WHERE agent_role IN {_GROUPS};
UPDATE cc.calls SET
  duration_s = CASE WHEN duration_s BETWEEN 0 AND {_DAY} THEN duration_s
                    WHEN duration_s > {_DAY} AND duration_s <> 'NaN' THEN {_DAY} ELSE 0 END,
  started_at = CASE WHEN started_at >= '1970-01-01' AND started_at < '2200-01-01' THEN started_at ELSE received_at END,
  agent_wpm = CASE WHEN agent_wpm BETWEEN 0 AND {MAX_WPM:g} THEN agent_wpm END,
  agent_talk_ratio = CASE WHEN agent_talk_ratio BETWEEN 0 AND 1 THEN agent_talk_ratio END,
  longest_agent_monologue_s = CASE WHEN longest_agent_monologue_s BETWEEN 0 AND {_DAY}
                                   THEN longest_agent_monologue_s END,
  upset_s = CASE WHEN upset_s BETWEEN 0 AND {_DAY} THEN upset_s END,
  source = left(source, 200), playbook = left(playbook, 200), pace_source = left(pace_source, 32)
WHERE NOT (duration_s BETWEEN 0 AND {_DAY} AND started_at >= '1970-01-01' AND started_at < '2200-01-01'
           AND coalesce(agent_wpm BETWEEN 0 AND {MAX_WPM:g}, true) AND coalesce(agent_talk_ratio BETWEEN 0 AND 1, true)
           AND coalesce(longest_agent_monologue_s BETWEEN 0 AND {_DAY}, true)
           AND coalesce(upset_s BETWEEN 0 AND {_DAY}, true) AND coalesce(length(source) <= 200, true)
           AND coalesce(length(playbook) <= 200, true) AND coalesce(length(pace_source) <= 32, true));
UPDATE cc.calls c SET (prompts, prompt_counts, interruptions, interruptions_by_agent) =
  (SELECT n.prompts, n.prompt_counts, n.interruptions, n.interruptions_by_agent FROM cc.call_doc_counts(c.doc) n)
WHERE NOT (prompts BETWEEN 0 AND {MAX_ITEMS} AND interruptions BETWEEN 0 AND {MAX_ITEMS}
           AND interruptions_by_agent BETWEEN 0 AND interruptions AND cc.prompt_counts_ok(prompt_counts));
UPDATE cc.comments SET t = NULL WHERE NOT coalesce(t BETWEEN 0 AND {_DAY}, true);
ALTER TABLE cc.calls ENABLE TRIGGER calls_before_write;
ALTER TABLE cc.calls FORCE ROW LEVEL SECURITY;
ALTER TABLE cc.comments FORCE ROW LEVEL SECURITY;

ALTER TABLE cc.calls
  ALTER COLUMN agent_role SET DEFAULT session_user,
  ADD CONSTRAINT calls_agent_is_a_person CHECK (agent_role NOT IN {_GROUPS}),
  ADD CONSTRAINT calls_duration_within_a_day CHECK (duration_s BETWEEN 0 AND {_DAY}),
  ADD CONSTRAINT calls_started_at_sane CHECK (started_at >= '1970-01-01' AND started_at < '2200-01-01'),
  ADD CONSTRAINT calls_figures_in_range CHECK (agent_wpm BETWEEN 0 AND {MAX_WPM:g} AND agent_talk_ratio BETWEEN 0 AND 1
    AND longest_agent_monologue_s BETWEEN 0 AND {_DAY} AND upset_s BETWEEN 0 AND {_DAY}),
  ADD CONSTRAINT calls_counts_in_range CHECK (prompts BETWEEN 0 AND {MAX_ITEMS} AND interruptions BETWEEN 0 AND {MAX_ITEMS}
    AND interruptions_by_agent BETWEEN 0 AND interruptions AND cc.prompt_counts_ok(prompt_counts)),
  ADD CONSTRAINT calls_names_short CHECK (length(source) <= 200 AND length(playbook) <= 200
    AND length(pace_source) <= 32);
ALTER TABLE cc.comments
  ALTER COLUMN author_role SET DEFAULT session_user,
  ADD CONSTRAINT comments_author_is_a_person CHECK (author_role NOT IN {_GROUPS}),
  ADD CONSTRAINT comments_t_within_a_day CHECK (t BETWEEN 0 AND {_DAY});
"""

_POLICIES = """
ALTER POLICY agent_read ON cc.calls USING (agent_role = session_user::text);
ALTER POLICY agent_insert ON cc.calls
  WITH CHECK (agent_role = session_user::text AND (SELECT cc.my_kind()) = 'agent');
ALTER POLICY agent_update ON cc.calls USING (agent_role = session_user::text)
  WITH CHECK (agent_role = session_user::text AND (SELECT cc.my_kind()) = 'agent');
ALTER POLICY agent_read ON cc.call_audio USING (EXISTS (
  SELECT 1 FROM cc.calls c WHERE c.uuid = call_audio.uuid AND c.agent_role = session_user::text));
ALTER POLICY agent_insert ON cc.call_audio WITH CHECK ((SELECT share_audio FROM cc.policy) AND EXISTS (
  SELECT 1 FROM cc.calls c WHERE c.uuid = call_audio.uuid AND c.agent_role = session_user::text));
ALTER POLICY agent_update ON cc.call_audio USING (EXISTS (
  SELECT 1 FROM cc.calls c WHERE c.uuid = call_audio.uuid AND c.agent_role = session_user::text))
  WITH CHECK ((SELECT share_audio FROM cc.policy) AND EXISTS (
  SELECT 1 FROM cc.calls c WHERE c.uuid = call_audio.uuid AND c.agent_role = session_user::text));
ALTER POLICY agent_read ON cc.comments USING (EXISTS (
  SELECT 1 FROM cc.calls c WHERE c.uuid = comments.call_uuid AND c.agent_role = session_user::text));
ALTER POLICY supervisor_write ON cc.comments WITH CHECK (
  author_role = session_user::text AND EXISTS (SELECT 1 FROM cc.calls c WHERE c.uuid = comments.call_uuid));
ALTER POLICY admin_all ON cc.comments WITH CHECK (author_role = session_user::text);
ALTER POLICY own_row ON cc.members USING (role = session_user::text);
ALTER POLICY own_rows ON cc.team_members USING (role = session_user::text);

CREATE OR REPLACE VIEW cc.weekly WITH (security_barrier) AS
  SELECT r.* FROM cc.weekly_rollup r
  WHERE (SELECT pg_has_role(session_user, 'cc_admin', 'USAGE'))
     OR r.agent_role = ANY ((SELECT cc.visible_agents())::text[]);

REVOKE ALL ON cc.call_doc_fields FROM PUBLIC;
GRANT SELECT ON cc.call_doc_fields TO cc_agent, cc_supervisor, cc_admin;
REVOKE ALL ON FUNCTION cc.doc_value_ok(jsonb, text, numeric, numeric, text[]), cc.doc_rule(text, numeric, numeric, text[]),
  cc.call_doc_shared(jsonb, boolean), cc.call_doc_problem(jsonb), cc.call_doc_counts(jsonb),
  cc.prompt_counts_ok(jsonb), cc.my_kind(), cc.comments_before_write() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cc.doc_value_ok(jsonb, text, numeric, numeric, text[]),
  cc.doc_rule(text, numeric, numeric, text[]), cc.call_doc_shared(jsonb, boolean), cc.call_doc_problem(jsonb),
  cc.call_doc_counts(jsonb), cc.prompt_counts_ok(jsonb), cc.my_kind() TO cc_agent, cc_supervisor, cc_admin;

REFRESH MATERIALIZED VIEW cc.weekly_rollup;
UPDATE cc.rollup_state SET refreshed_at = now();
"""

V2 = _FUNCTIONS + _REPAIR + _POLICIES

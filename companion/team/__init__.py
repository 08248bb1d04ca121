"""The team server: every agent's calls on one shared PostgreSQL server (issue 14).

- `server_schema`: the versioned schema (tables, row-level security, the weekly rollup) and its check;
- `connection`: connecting with psycopg 3 (password from the argument, the OS keyring or ~/.pgpass; TLS);
- `admin`: setting a server up, adding and revoking members;
- `server_calls`: what an agent's sync worker calls (upload a call, read the policy, pull feedback);
- `queries`: what a supervisor's history and dashboard read (list, load, comment, review, weekly).

Nothing here imports Qt; every function takes a connection and raises `TeamError` with one line
for the user. docs/team.md says how to set a server up and what each role can see.
"""

"""The team server: every agent's calls on one shared PostgreSQL server (issue 14).

- `server_schema`: the versioned schema (tables, row-level security, the weekly rollup) and its check;
- `server_schema_v2`: schema version 2, the rules the server keeps itself, and the repair of a v1 server;
- `doc_rules`: what a call document may hold (keys, types, ranges, sizes), for the server, the upload
  and `load_call`;
- `connection`: connecting with psycopg 3 (password from the argument, the OS keyring or ~/.pgpass; TLS);
- `transport`: what every connection must be before a byte leaves (SCRAM only, a network server's
  certificate checked);
- `admin`: setting a server up, adding and revoking members;
- `server_calls`: what an agent's sync worker calls (upload a call, read the policy, pull feedback);
- `feedback`: supervisors' comments and reviews pulled into the agent's store, trusting nothing sent;
- `queries`: what a supervisor's history and dashboard read (list, load, comment, review, weekly).

Nothing here imports Qt; every function takes a connection and raises `TeamError` with one line
for the user. docs/team.md says how to set a server up and what each role can see.
"""

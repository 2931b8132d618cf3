-- Security findings of the local reviewer's taint engine carry their CWE, their OWASP Top 10
-- category and the data flow from source to sink (SARIF codeFlows, the findings API).
alter table findings add column cwe text check (cwe ~ '^CWE-[0-9]{1,5}$');
alter table findings add column owasp text;
-- [{"line": 12, "column": 4, "message": "user input: request.args"}, ...], source first.
alter table findings add column trace jsonb;

-- A user's access tokens carry the generation they were issued in (claim "gen"); disabling,
-- deleting, changing the role or the password bumps it, and every function refuses tokens
-- of an older generation (shared/auth.py), so revocation takes effect at once.
alter table users add column token_generation integer not null default 0;

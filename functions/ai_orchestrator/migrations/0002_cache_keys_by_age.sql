-- cache_keys is pruned as it grows (repository.insert_cache_key): rows older than the
-- Redis answers they name are dropped, found by age.
create index cache_keys_created on cache_keys (created_at);

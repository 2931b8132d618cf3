# expect: safe hash
from hashlib import md5


def cache_key(url: str) -> str:
    return md5(url.encode("utf-8"), usedforsecurity=False).hexdigest()

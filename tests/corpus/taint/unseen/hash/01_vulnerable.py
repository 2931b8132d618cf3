# expect: vulnerable hash
from hashlib import md5


def password_fingerprint(password: str) -> str:
    hasher = md5()
    hasher.update(password.encode("utf-8"))
    return hasher.hexdigest()

# expect: vulnerable hash
import hashlib


def store_password(db, user, password):
    digest = hashlib.new("SHA1", password.encode()).hexdigest()
    db.save(user, digest)

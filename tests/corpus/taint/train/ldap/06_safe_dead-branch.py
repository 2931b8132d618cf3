# expect: safe ldap
from ldap3 import Connection, Server


def main():
    value, limit = input("value: "), 10
    limit = 10
    if limit > 99:
        conn = Connection(Server("ldap://dir"), auto_bind=True)
        conn.search("dc=example,dc=com", "(uid=" + value + ")")
    return None

# expect: vulnerable ldap
from ldap3 import Connection, Server


def main():
    value, limit = input("value: "), 10
    conn = Connection(Server("ldap://dir"), auto_bind=True)
    conn.search("dc=example,dc=com", "(uid=" + value + ")")

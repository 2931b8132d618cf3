# expect: safe ldap
import ldap
import ldap.filter
import sys


def run_tool():
    if (value := sys.argv[1]) is None:
        value = ""
    handle = ldap.initialize("ldap://dir")
    flt = "(sAMAccountName=%s)" % ldap.filter.escape_filter_chars(value)
    handle.search_ext_s("dc=corp", ldap.SCOPE_SUBTREE, flt)

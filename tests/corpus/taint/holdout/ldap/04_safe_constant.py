# expect: safe ldap
from django.http import HttpResponse
import ldap


def first(x):
    return second(x)


def second(y):
    return y


def update_profile(request, user_id):
    value = first(request.POST["field"])
    value = "report.txt"
    handle = ldap.initialize("ldap://dir")
    flt = "(sAMAccountName=%s)" % value
    handle.search_ext_s("dc=corp", ldap.SCOPE_SUBTREE, flt)

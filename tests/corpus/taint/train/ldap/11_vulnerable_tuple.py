# expect: vulnerable ldap
from django.http import HttpResponse
import ldap


def view(request):
    value, limit = request.GET.get("q", ""), 10
    l = ldap.initialize("ldap://dir")
    l.search_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, f"(cn={value})")

# expect: vulnerable ldap
from django.http import HttpResponse
from ldap3 import Connection, Server


def view(request):
    value = request.GET.get("q", "")
    conn = Connection(Server("ldap://dir"), auto_bind=True)
    conn.search("dc=example,dc=com", "(uid=" + value + ")")

# expect: safe ldap
from django.http import HttpResponse
from ldap3 import Connection, Server
from ldap3.utils.conv import escape_filter_chars


def view(request):
    value = request.GET.get("q", "")
    conn = Connection(Server("ldap://dir"), auto_bind=True)
    conn.search("dc=example,dc=com", "(uid=" + escape_filter_chars(value) + ")")

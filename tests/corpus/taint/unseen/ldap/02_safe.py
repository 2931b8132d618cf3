# expect: safe ldap
from django.http import JsonResponse
from ldap3 import Connection, Server
from ldap3.utils.conv import escape_filter_chars


def members(request):
    group = escape_filter_chars(request.GET["group"])
    conn = Connection(Server("ldap://dir.local"), auto_bind=True)
    conn.search("dc=corp", f"(&(objectClass=group)(cn={group}))", attributes=["member"])
    return JsonResponse({"members": [str(e.member) for e in conn.entries]})

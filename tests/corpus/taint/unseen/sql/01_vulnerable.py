# expect: vulnerable sql
from django.db import connection
from django.http import JsonResponse


def orders(request):
    status = request.POST.get("status", "open")
    clause = "WHERE status = '{}'".format(status)
    with connection.cursor() as cursor:
        cursor.execute(" ".join(["SELECT id, total FROM orders", clause]))
        rows = cursor.fetchall()
    return JsonResponse({"orders": rows})

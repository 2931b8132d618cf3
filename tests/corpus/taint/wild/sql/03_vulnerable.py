# expect: vulnerable sql
from django.db import connection
from django.http import JsonResponse


def report(request):
    order = request.GET.get("order", "id")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM sales ORDER BY {order}")
        rows = cursor.fetchall()
    return JsonResponse({"rows": rows})
